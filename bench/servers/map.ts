import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { generateSid } from '../../src/index.js';
import { closeServer, cookieValue, listen, readBody, send } from './http-util.js';
import { type BenchServer, IDLE_TIMEOUT_MS, routeOf, type ServerContext, sampleIndices } from './protocol.js';

interface MapSession {
  user?: string;
  count: number;
  last?: number;
  expiresAt: number;
}

const COOKIE = 'sid';
const SET_COOKIE_ATTRIBUTES = `; Path=/; HttpOnly; SameSite=Lax; Max-Age=${IDLE_TIMEOUT_MS / 1000}`;

/**
 * The least a single-process session store can do: a Map from id to a plain object, read and written
 * synchronously, idle expiry checked on access. No signing, no limits, no GC tick: the upper bound for any
 * store that keeps sessions on the main thread's heap.
 */
export async function createMapServer({ counters }: ServerContext): Promise<BenchServer> {
  const sessions = new Map<string, MapSession>();

  function start(req: IncomingMessage, res: ServerResponse): MapSession {
    const now = Date.now();
    const sid = cookieValue(req, COOKIE);
    if (sid !== undefined) {
      const found = sessions.get(sid);
      if (found !== undefined && found.expiresAt > now) {
        found.expiresAt = now + IDLE_TIMEOUT_MS;
        return found;
      }
      if (found !== undefined) sessions.delete(sid);
    }
    const fresh: MapSession = { count: 0, expiresAt: now + IDLE_TIMEOUT_MS };
    const id = generateSid();
    sessions.set(id, fresh);
    res.setHeader('set-cookie', `${COOKIE}=${id}${SET_COOKIE_ATTRIBUTES}`);
    return fresh;
  }

  const server = createServer((req, res) => {
    const route = routeOf(req.url);
    if (route === null) return send(res, 404, 'not found');
    const session = start(req, res);
    switch (route) {
      case 'new':
        session.user = 'u';
        return send(res, 200, 'ok');
      case 'read':
        return send(res, 200, readBody(session.user, session.count));
      case 'write':
        session.last = Date.now();
        return send(res, 200, readBody(session.user, session.count));
      case 'incr':
        session.count += 1;
        counters.incrAcks += 1;
        return send(res, 200, String(session.count));
      case 'count':
        return send(res, 200, String(session.count));
    }
  });
  const port = await listen(server);

  return {
    port,
    prefill: async (count, sample) => {
      const picked = sampleIndices(count, sample);
      const cookies: string[] = [];
      const expiresAt = Date.now() + IDLE_TIMEOUT_MS;
      for (let i = 0; i < count; i++) {
        const id = generateSid();
        sessions.set(id, { user: 'u', count: 0, expiresAt });
        if (picked.has(i)) cookies.push(`${COOKIE}=${id}`);
      }
      return cookies;
    },
    close: () => closeServer(server),
  };
}
