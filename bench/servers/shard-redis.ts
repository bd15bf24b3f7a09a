import type { BenchServer, ServerContext } from './protocol.js';
import { deleteKeys, runPrefix } from './redis-keys.js';
import { shardServer } from './shard.js';

/**
 * shard-session with the 'redis' provider, on the Redis the registry entry names (REDIS_URL): the same
 * node:http server and routes as the other shard-session servers, its keys under a prefix of the run's own.
 */
export async function createShardRedisServer(context: ServerContext): Promise<BenchServer> {
  const url = context.serviceUrl ?? 'redis://127.0.0.1:6379';
  const prefix = runPrefix('shard-redis');
  const server = await shardServer({ provider: 'redis', url, prefix })(context);
  return {
    ...server,
    close: async () => {
      await server.close();
      await deleteKeys(url, prefix);
    },
  };
}
