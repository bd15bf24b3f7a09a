import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { describeProvider } from '../../src/testing/index.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
describeProvider('sharded (2 shards)', (ctx) =>
  createShardedProvider({ shards: 2, now: ctx.now, gcIntervalMs: 0, ...ctx.limits }),
);
