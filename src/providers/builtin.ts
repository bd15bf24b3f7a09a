import { register } from '../registry.js';
import { createMemoryProvider } from './memory.js';

// The built-in providers, registered once when the package is imported.
register('memory', (options) => createMemoryProvider(options));
