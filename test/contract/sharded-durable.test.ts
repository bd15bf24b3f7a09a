import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { describeProvider } from '../../src/testing/index.js';
import { tempDir } from '../support/temp-dir.js';

// The shared contract and its property test against durable shards: LMDB in a temp dir of the provider's own.
// Shard workers load the build: `npm run build` first. One provider per file where tests can share one.
describeProvider(
  'sharded with dir (2 shards, LMDB)',
  (ctx) => {
    const dir = tempDir('shard-durable-contract-');
    ctx.onCleanup(() => dir.remove());
    return createShardedProvider({ shards: 2, dir: dir.path, now: ctx.now, gcIntervalMs: 0, ...ctx.limits });
  },
  { scope: 'file' },
);
