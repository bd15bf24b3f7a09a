import { register } from '../registry.js';
import { createMemoryProvider } from './memory.js';
import { createShardedProvider } from './sharded/provider.js';

// The built-in providers, registered once when the package is imported.
register('memory', (options) => createMemoryProvider(options));
register('sharded', (options) => createShardedProvider(options));
