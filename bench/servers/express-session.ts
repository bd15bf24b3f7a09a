import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import connectPgSimple from 'connect-pg-simple';
import { sign } from 'cookie-signature';
import session from 'express-session';
import createMemoryStore from 'memorystore';
import pg from 'pg';
import { generateSid } from '../../src/index.js';
import { closeServer, listen, readBody, send } from './http-util.js';
import { freshSchema, POSTGRES_SERVICE } from './postgres-util.js';
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

const COOKIE = 'connect.sid';
// memorystore's README: prune expired entries once a day (its LRU also drops them when read).
const MEMORYSTORE_CHECK_PERIOD_MS = 24 * 60 * 60_000;

/** The stores express-session is measured with, by name. */
export type ExpressStoreName = 'MemoryStore' | 'memorystore' | 'connect-pg-simple';

/** A store express-session is measured with, and how to end it. */
export interface ExpressStore {
  readonly store: session.Store;
  close(): void | Promise<void>;
}

async function createStore(name: ExpressStoreName, context: ServerContext): Promise<ExpressStore> {
  if (name === 'MemoryStore') return { store: new session.MemoryStore(), close: () => {} };
  if (name === 'connect-pg-simple') return createPgStore(context);
  const MemoryStore = createMemoryStore(session);
  const store = new MemoryStore({ checkPeriod: MEMORYSTORE_CHECK_PERIOD_MS });
  return { store, close: () => store.stopInterval() };
}

/**
 * connect-pg-simple, the store express-session users run on PostgreSQL, as its README sets it up: a pg.Pool
 * (node-postgres's default 10 connections), the table created if missing, expired rows pruned every 15
 * minutes (its default), in a schema of this process's own on the bench's database.
 */
async function createPgStore(context: ServerContext): Promise<ExpressStore> {
  const url = context.serviceUrl ?? POSTGRES_SERVICE.defaultUrl;
  const schema = await freshSchema(url, 'connect_pg');
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', () => {});
  const PgStore = connectPgSimple(session);
  const store = new PgStore({ pool, schemaName: schema.name, createTableIfMissing: true });
  return {
    store,
    close: async () => {
      store.close();
      await pool.end();
      await schema.drop();
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
export function expressSessionServer(
  storeName: ExpressStoreName | ((context: ServerContext) => ExpressStore | Promise<ExpressStore>),
): ServerFactory {
  return async (context: ServerContext): Promise<BenchServer> => {
    const { counters } = context;
    const { store, close: closeStore } =
      typeof storeName === 'function' ? await storeName(context) : await createStore(storeName, context);
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
