import type { ServerFactory, ServerName } from './protocol.js';

/**
 * How each server is built. Modules load lazily, so a child process only loads the server it runs (and a
 * peer's dependencies never share a heap with another's).
 */
export const SERVER_FACTORIES: Record<ServerName, () => Promise<ServerFactory>> = {
  plain: async () => (await import('./plain.js')).createPlainServer,
  map: async () => (await import('./map.js')).createMapServer,
  classic: async () => (await import('./classic.js')).createClassicServer,
  'express-session': async () => (await import('./express-session.js')).createExpressSessionServer,
  'fastify-session': async () => (await import('./fastify-session.js')).createFastifySessionServer,
  'shard-memory': async () => (await import('./shard.js')).shardServer({ provider: 'memory' }),
  'shard-sharded-1': async () => (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 1 }),
  'shard-sharded-2': async () => (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 2 }),
  'shard-sharded-4': async () => (await import('./shard.js')).shardServer({ provider: 'sharded', shards: 4 }),
};
