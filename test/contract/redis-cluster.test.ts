import { afterAll, beforeAll } from 'vitest';
import { createRedisProvider } from '../../src/providers/redis/provider.js';
import { describeProvider } from '../../src/testing/index.js';
import { RedisCluster } from '../support/redis-cluster.js';

// A Redis Cluster of 3 masters and 3 replicas of this file's own. Renames between ids of different slot
// groups take the three-step path (src/providers/redis/cluster-rename.ts): the suite checks it keeps the
// contract. Fewer random sequences than on one server: each rename costs three round trips here.
let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describeProvider(
  'redis cluster',
  (ctx) =>
    createRedisProvider({
      cluster: cluster.addresses,
      prefix: `${ctx.namespace}:`,
      now: ctx.now,
      gcIntervalMs: 0,
      ...ctx.limits,
    }),
  { scope: 'file', lacks: ['maxSessions'], property: { runs: 50 } },
);
