import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { describeProvider } from '../../src/testing/index.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// The contract with a read cache of about two small sessions per shard (read-cache.ts): it evicts on almost
// every read it files, so every case runs through filing, serving, dropping and evicting.
describeProvider(
  'sharded (2 shards, a tiny read cache)',
  (ctx) =>
    createShardedProvider({ shards: 2, now: ctx.now, gcIntervalMs: 0, readCacheBytes: 3_000, ...ctx.limits }),
  { scope: 'file' },
);
