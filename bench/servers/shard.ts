import { createServer, type ServerResponse } from 'node:http';
import { createSessionManager, encodeValue, generateSid, OverloadedError } from '../../src/index.js';
import { closeServer, listen, readBody, send } from './http-util.js';
import {
  ABSOLUTE_TIMEOUT_MS,
  type BenchServer,
  IDLE_TIMEOUT_MS,
  inChunks,
  type RouteCounters,
  routeOf,
  type ServerFactory,
  sampleIndices,
} from './protocol.js';

type Data = { user: string; count: number; last: number };

/** Which shard-session provider a server uses. */
export type ShardSetup = { provider: 'memory' } | { provider: 'sharded'; shards: number };

const COOKIE = 'sid';

/** shard-session on node:http, with the given provider: the same routes as every peer. */
export function shardServer(setup: ShardSetup): ServerFactory {
  return async (counters: RouteCounters): Promise<BenchServer> => {
    const manager = createSessionManager<Data>({
      ...(setup.provider === 'sharded'
        ? { provider: 'sharded', providerOptions: { shards: setup.shards } }
        : { provider: 'memory' }),
      cookieName: COOKIE,
      idleTimeout: IDLE_TIMEOUT_MS,
      absoluteTimeout: ABSOLUTE_TIMEOUT_MS,
    });

    const fail = (res: ServerResponse, error: unknown) => {
      if (error instanceof OverloadedError) {
        res.setHeader('retry-after', '1');
        return send(res, 503, 'overloaded');
      }
      send(res, 500, String(error));
    };

    const server = createServer(async (req, res) => {
      const route = routeOf(req.url);
      if (route === null) return send(res, 404, 'not found');
      try {
        const session = await manager.start(req, res);
        switch (route) {
          case 'new':
            session.set('user', 'u');
            return send(res, 200, 'ok');
          case 'read':
            return send(res, 200, readBody(session.get('user'), session.get('count') ?? 0));
          case 'write':
            session.set('last', Date.now());
            return send(res, 200, readBody(session.get('user'), session.get('count') ?? 0));
          case 'incr': {
            const next = await session.incr('count', 1);
            counters.incrAcks += 1;
            return send(res, 200, String(next));
          }
          case 'count':
            return send(res, 200, String(session.get('count') ?? 0));
        }
      } catch (error) {
        fail(res, error);
      }
    });
    const port = await listen(server);

    return {
      port,
      prefill: async (count, sample) => {
        const picked = sampleIndices(count, sample);
        const cookies: string[] = [];
        const initial = { set: [['user', encodeValue('u')] as const, ['count', encodeValue(0)] as const] };
        // Many in flight at once, so the sharded provider batches them as it would under load.
        await inChunks(count, 20_000, (i) => {
          const sid = generateSid();
          if (picked.has(i)) cookies.push(`${COOKIE}=${sid}`);
          return manager.provider.init(sid, manager.policy, initial);
        });
        return cookies;
      },
      storeCounters: async () => {
        const shards = await manager.stats();
        return {
          ops: shards.reduce((sum, shard) => sum + shard.ops, 0),
          batches: shards.reduce((sum, shard) => sum + shard.batches, 0),
        };
      },
      close: async () => {
        await closeServer(server);
        await manager.close();
      },
    };
  };
}
