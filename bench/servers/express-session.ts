import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { sign } from 'cookie-signature';
import session from 'express-session';
import { generateSid } from '../../src/sid.js';
import { closeServer, listen, readBody, send } from './http-util.js';
import {
  type BenchServer,
  IDLE_TIMEOUT_MS,
  inChunks,
  type RouteCounters,
  routeOf,
  sampleIndices,
} from './protocol.js';

const COOKIE = 'connect.sid';
const SECRET = 'bench-secret-not-for-production';

type BenchSessionData = session.SessionData & { user?: string; count?: number; last?: number };
type SessionRequest = IncomingMessage & { session: session.Session & BenchSessionData };

/**
 * express-session 1.x with its default MemoryStore, called as Connect middleware straight from node:http
 * (no Express router in the way). Options are the ones its README recommends for a login flow.
 */
export async function createExpressSessionServer(counters: RouteCounters): Promise<BenchServer> {
  const store = new session.MemoryStore();
  const middleware = session({
    name: COOKIE,
    secret: SECRET,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: IDLE_TIMEOUT_MS, httpOnly: true, sameSite: 'lax' },
  }) as unknown as (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

  function handle(req: SessionRequest, res: ServerResponse) {
    const data = req.session;
    switch (routeOf(req.url)) {
      case 'new':
        data.user = 'u';
        return send(res, 200, 'ok');
      case 'read':
        return send(res, 200, readBody(data.user, data.count ?? 0));
      case 'write':
        data.last = Date.now();
        return send(res, 200, readBody(data.user, data.count ?? 0));
      case 'incr':
        data.count = (data.count ?? 0) + 1;
        counters.incrAcks += 1;
        return send(res, 200, String(data.count));
      case 'count':
        return send(res, 200, String(data.count ?? 0));
      default:
        return send(res, 404, 'not found');
    }
  }

  const server = createServer((req, res) => {
    middleware(req, res, (error) => {
      if (error) return send(res, 500, String(error));
      handle(req as SessionRequest, res);
    });
  });
  const port = await listen(server);

  return {
    port,
    prefill: async (count, sample) => {
      const picked = sampleIndices(count, sample);
      const cookies: string[] = [];
      // The Cookie class takes its options at runtime; its typings say otherwise.
      const CookieClass = session.Cookie as unknown as new (options: object) => session.Cookie;
      const cookie = new CookieClass({ maxAge: IDLE_TIMEOUT_MS, httpOnly: true, sameSite: 'lax' });
      await inChunks(count, 10_000, (i) => {
        const sid = generateSid();
        if (picked.has(i)) cookies.push(`${COOKIE}=${encodeURIComponent(`s:${sign(sid, SECRET)}`)}`);
        const data = { cookie, user: 'u', count: 0 } as unknown as session.SessionData;
        // MemoryStore.set stores the JSON synchronously and calls back on a later turn.
        return new Promise<void>((resolve, reject) => {
          store.set(sid, data, (error) => (error ? reject(error) : resolve()));
        });
      });
      return cookies;
    },
    close: () => closeServer(server),
  };
}
