import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { describeProvider } from '../../src/testing/index.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// One provider for the tests that can share it, as a provider over an external store would run: starting
// the threads for each of the 52 tests cost ~0.1 s each on an idle machine, several times that on a busy one.
describeProvider(
  'sharded (2 shards)',
  (ctx) => createShardedProvider({ shards: 2, now: ctx.now, gcIntervalMs: 0, ...ctx.limits }),
  { scope: 'file' },
);
