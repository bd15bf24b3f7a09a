import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { describeProvider } from '../../src/testing/index.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// Tests that can share a provider share one per file (see the 2-shard setup for why). Without the read cache
// (readCacheBytes 0): the 2-shard run has the default one, the tiny-cache run a small one.
describeProvider(
  'sharded (4 shards, no read cache)',
  (ctx) =>
    createShardedProvider({ shards: 4, now: ctx.now, gcIntervalMs: 0, readCacheBytes: 0, ...ctx.limits }),
  { scope: 'file' },
);
