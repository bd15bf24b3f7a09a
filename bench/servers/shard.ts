import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Session, sendSessionError } from '../../src/index.js';
import { closeServer, listen, readBody, send } from './http-util.js';
import type { BenchServer, Route, ServerContext, ServerFactory } from './protocol.js';
import { routeOf } from './protocol.js';
import { type BenchData, benchManager, managerParts, type ShardSetup } from './shard-common.js';

/** How a shard-session server answers. */
export type ShardServerSetup = ShardSetup & {
  /**
   * Every route awaits `session.save()` before answering, so the answer leaves only after the store applied
   * the request's writes, as express-session's does. Without it, the commit goes out with the headers and is
   * not awaited (the ordered channel still gives read-your-writes).
   */
  readonly awaitSave?: boolean;
};

/** The shared routes on a shard-session session: what each answers (after `incr`'s store round trip). */
export async function shardRoute(
  route: Route,
  session: Session<BenchData>,
  onIncr: () => void,
): Promise<string> {
  switch (route) {
    case 'new':
      session.set('user', 'u');
      return 'ok';
    case 'read':
      return readBody(session.get('user'), session.get('count') ?? 0);
    case 'write':
      session.set('last', Date.now());
      return readBody(session.get('user'), session.get('count') ?? 0);
    case 'incr': {
      const next = await session.incr('count', 1);
      onIncr();
      return String(next);
    }
    case 'count':
      return String(session.get('count') ?? 0);
  }
}

/** shard-session on node:http, with the given provider: the same routes as every peer. */
export function shardServer(setup: ShardServerSetup): ServerFactory {
  return async ({ counters }: ServerContext): Promise<BenchServer> => {
    const durable = setup.provider === 'sharded' && setup.durable;
    const dir = durable ? mkdtempSync(join(tmpdir(), 'shard-bench-durable-')) : undefined;
    const manager = benchManager(setup.provider === 'sharded' && dir ? { ...setup, dir } : setup, counters);
    const onIncr = () => {
      counters.incrAcks += 1;
    };
    const server = createServer(async (req, res) => {
      const route = routeOf(req.url);
      if (route === null) return send(res, 404, 'not found');
      try {
        const session = await manager.start(req, res);
        const body = await shardRoute(route, session, onIncr);
        if (setup.awaitSave) await session.save();
        send(res, 200, body);
      } catch (error) {
        sendSessionError(res, error);
      }
    });
    const port = await listen(server);
    return {
      port,
      ...managerParts(manager, setup.provider === 'redis'),
      close: async () => {
        await closeServer(server);
        await manager.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}
