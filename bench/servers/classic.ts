import { createServer } from 'node:http';
import { classicSessionId, Manager } from '../classic/manager.js';
import { type ClassicAnswer, MemoryProvider } from '../classic/memory.js';
import { register } from '../classic/provider.js';
import { closeServer, listen, readBody, send } from './http-util.js';
import {
  type BenchServer,
  IDLE_TIMEOUT_MS,
  inChunks,
  routeOf,
  type ServerContext,
  type ServerFactory,
  sampleIndices,
} from './protocol.js';

const COOKIE = 'gosessionid';

/**
 * The "before": the classic chapter's design (bench/classic/), one global lock around every session
 * operation. `incr` is what the chapter's readers write: Get, then Set. `provider` says when the memory
 * provider answers: `'async'` on a later turn (a store behind I/O), `'sync'` at once (the Go map).
 */
export function classicServer(setup: { provider: 'async' | 'sync' }): ServerFactory {
  const answer: ClassicAnswer = setup.provider === 'async' ? 'later' : 'now';
  return async ({ counters }: ServerContext) => createClassicServer(answer, counters);
}

async function createClassicServer(
  answer: ClassicAnswer,
  counters: ServerContext['counters'],
): Promise<BenchServer> {
  const memory = new MemoryProvider(answer);
  register('memory', memory);
  const manager = new Manager('memory', COOKIE, IDLE_TIMEOUT_MS / 1000);
  await manager.gc();

  const server = createServer(async (req, res) => {
    const route = routeOf(req.url);
    if (route === null) return send(res, 404, 'not found');
    try {
      const session = await manager.sessionStart(req, res);
      switch (route) {
        case 'new':
          await session.set('user', 'u');
          return send(res, 200, 'ok');
        case 'read':
          return send(res, 200, readBody(await session.get('user'), await session.get('count')));
        case 'write': {
          const body = readBody(await session.get('user'), await session.get('count'));
          await session.set('last', Date.now());
          return send(res, 200, body);
        }
        case 'incr': {
          const next = (Number(await session.get('count')) || 0) + 1;
          await session.set('count', next);
          counters.incrAcks += 1;
          return send(res, 200, String(next));
        }
        case 'count':
          return send(res, 200, String((await session.get('count')) ?? 0));
      }
    } catch (error) {
      send(res, 500, String(error));
    }
  });
  const port = await listen(server);

  return {
    port,
    prefill: async (count, sample) => {
      const picked = sampleIndices(count, sample);
      const cookies: string[] = [];
      // Through the provider, as the manager would, but without queueing on the lock one at a time.
      await inChunks(count, 10_000, async (i) => {
        const sid = classicSessionId();
        const session = await memory.sessionInit(sid);
        await Promise.all([session.set('user', 'u'), session.set('count', 0)]);
        if (picked.has(i)) cookies.push(`${COOKIE}=${encodeURIComponent(sid)}`);
      });
      return cookies;
    },
    close: async () => {
      manager.stop();
      await closeServer(server);
    },
  };
}
