import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { describeProvider } from '../../src/testing/index.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// One provider for the tests that can share it (starting four threads per test costs ~0.3 s): this
// setup also runs the suite the way a provider over an external store would.
describeProvider(
  'sharded (4 shards)',
  (ctx) => createShardedProvider({ shards: 4, now: ctx.now, gcIntervalMs: 0, ...ctx.limits }),
  { scope: 'file' },
);
