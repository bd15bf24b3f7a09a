import { afterAll, beforeAll } from 'vitest';
import { createRedisProvider } from '../../src/providers/redis/provider.js';
import { describeProvider } from '../../src/testing/index.js';
import { RedisServer } from '../support/redis-servers.js';

// A redis-server of this file's own (never the machine's 6379); each provider gets a prefix of its own, so
// every one starts over empty storage on the same server.
let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.stop();
});

describeProvider(
  'redis',
  (ctx) =>
    createRedisProvider({
      url: server.url,
      prefix: `${ctx.namespace}:`,
      now: ctx.now,
      gcIntervalMs: 0,
      ...ctx.limits,
    }),
  {
    scope: 'file',
    // maxSessions is enforced per slot group (1/64th of it each), not per stats() entry as the test assumes;
    // test/redis-provider.test.ts tests the eviction.
    lacks: ['maxSessions'],
  },
);
