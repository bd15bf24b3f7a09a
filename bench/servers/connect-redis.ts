import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { ExpressStore } from './express-session.js';
import type { ServerContext } from './protocol.js';
import { deleteKeys, runPrefix } from './redis-keys.js';

/**
 * connect-redis 9 over node-redis 5 (connect-redis 10 needs Node 22), set up as its README says: the session
 * as JSON under one key, rewritten whole by every save (its `touch` only when nothing changed). On the Redis
 * the registry entry names (REDIS_URL), under a prefix of the run's own that it deletes when it closes.
 */
export async function connectRedisStore(context: ServerContext): Promise<ExpressStore> {
  const url = context.serviceUrl ?? 'redis://127.0.0.1:6379';
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const prefix = runPrefix('connect-redis');
  return {
    store: new RedisStore({ client, prefix }),
    close: async () => {
      await client.quit();
      await deleteKeys(url, prefix);
    },
  };
}
