import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { RedisStore } from 'connect-redis';
import { sign } from 'cookie-signature';
import session from 'express-session';
import createMemoryStore from 'memorystore';
import { createClient } from 'redis';
import { generateSid } from '../../src/index.js';
import { closeServer, listen, readBody, send } from './http-util.js';
import {
  BENCH_SECRET,
  type BenchServer,
  IDLE_TIMEOUT_MS,
  inChunks,
  routeOf,
  type ServerContext,
  type ServerFactory,
  sampleIndices,
} from './protocol.js';
import { deleteKeys, runPrefix } from './redis-keys.js';

const COOKIE = 'connect.sid';
// memorystore's README: prune expired entries once a day (its LRU also drops them when read).
const MEMORYSTORE_CHECK_PERIOD_MS = 24 * 60 * 60_000;

/** The stores express-session is measured with. */
export type ExpressStoreName = 'MemoryStore' | 'memorystore' | 'connect-redis';

async function createStore(
  name: ExpressStoreName,
  context: ServerContext,
): Promise<{ store: session.Store; close(): Promise<void> }> {
  if (name === 'MemoryStore') return { store: new session.MemoryStore(), close: async () => {} };
  if (name === 'connect-redis') return createRedisStore(context.serviceUrl ?? 'redis://127.0.0.1:6379');
  const MemoryStore = createMemoryStore(session);
  const store = new MemoryStore({ checkPeriod: MEMORYSTORE_CHECK_PERIOD_MS });
  return { store, close: async () => store.stopInterval() };
}

/**
 * connect-redis 9 over node-redis 5, as its README sets it up: the session as JSON under one key, rewritten
 * whole by every save (its `touch` only when nothing changed). Keys under a prefix of the run's own.
 */
async function createRedisStore(url: string): Promise<{ store: session.Store; close(): Promise<void> }> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const prefix = runPrefix('connect-redis');
  const store = new RedisStore({ client, prefix });
  return {
    store,
    close: async () => {
      await client.quit();
      await deleteKeys(url, prefix);
    },
  };
}

type BenchSessionData = session.SessionData & { user?: string; count?: number; last?: number };
type SessionRequest = IncomingMessage & { session: session.Session & BenchSessionData };

/**
 * express-session 1.x with the named store, called as Connect middleware straight from node:http (no Express
 * router in the way). Options are the ones its README recommends for a login flow. The default MemoryStore
 * is documented as not for production; memorystore is the in-memory store its users run instead.
 */
export function expressSessionServer(storeName: ExpressStoreName): ServerFactory {
  return async (context: ServerContext): Promise<BenchServer> => {
    const { counters } = context;
    const { store, close: closeStore } = await createStore(storeName, context);
    const middleware = session({
      name: COOKIE,
      secret: BENCH_SECRET,
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
          if (picked.has(i)) cookies.push(`${COOKIE}=${encodeURIComponent(`s:${sign(sid, BENCH_SECRET)}`)}`);
          const data = { cookie, user: 'u', count: 0 } as unknown as session.SessionData;
          // Both stores keep the JSON synchronously and call back on a later turn.
          return new Promise<void>((resolve, reject) => {
            store.set(sid, data, (error) => (error ? reject(error) : resolve()));
          });
        });
        return cookies;
      },
      close: async () => {
        await closeServer(server);
        await closeStore();
      },
    };
  };
}
