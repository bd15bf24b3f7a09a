import { createMemoryProvider } from '../../src/providers/memory.js';
import { describeProvider } from '../../src/testing/index.js';

// The reference provider is cheap: a fresh one per test, and more random sequences than the default.
describeProvider('memory', (ctx) => createMemoryProvider({ now: ctx.now, gcIntervalMs: 0, ...ctx.limits }), {
  property: { runs: 300 },
  expectedFailures: {
    'deltas that are null or another falsy value reject InvalidArgumentError':
      "SessionTable.init applies `initial` only `if (initial)`, so init(sid, policy, null) creates the session instead of rejecting (src/providers/session-table.ts); 'sharded' checks it with checkDeltaShape",
    'the provider keeps its own copy of the bytes it was given':
      "SessionTable.applyDelta copies with value.slice(), a view for a Buffer (what encodeValue returns): the stored value aliases the caller's buffer (src/providers/session-table.ts); Uint8Array.prototype.slice.call(value) copies",
  },
});
