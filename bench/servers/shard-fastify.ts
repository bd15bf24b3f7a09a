import Fastify from 'fastify';
import { fastifySessionPlugin } from '../../src/fastify.js';
import type { Session } from '../../src/index.js';
import { closeFastify, listenFastify, registerRoutes } from './fastify-util.js';
import type { BenchServer, ServerContext } from './protocol.js';
import { shardRoute } from './shard.js';
import { type BenchData, benchManager, managerParts } from './shard-common.js';

/**
 * shard-session's own Fastify plugin on Fastify 5, 'sharded' provider with 1 shard thread: the counterpart of
 * fastify-session, with Fastify's overhead on both sides.
 */
export async function createShardFastifyServer({ counters }: ServerContext): Promise<BenchServer> {
  const manager = benchManager({ provider: 'sharded', shards: 1 }, counters);
  const app = Fastify({ logger: false });
  await app.register(fastifySessionPlugin, { manager });
  const onIncr = () => {
    counters.incrAcks += 1;
  };
  registerRoutes(app, (route, request) =>
    shardRoute(route, request.session as unknown as Session<BenchData>, onIncr),
  );
  const port = await listenFastify(app);
  return {
    port,
    ...managerParts(manager),
    close: async () => {
      await closeFastify(app);
      await manager.close();
    },
  };
}
