import { createMemoryProvider } from '../../src/providers/memory.js';
import { describeProvider } from '../../src/testing/index.js';

// The reference provider is cheap: a fresh one per test, and more random sequences than the default.
describeProvider('memory', (ctx) => createMemoryProvider({ now: ctx.now, gcIntervalMs: 0, ...ctx.limits }), {
  property: { runs: 300 },
});
