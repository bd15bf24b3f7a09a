import { createRequire } from 'node:module';
import Fastify, { type FastifyPluginCallback, type FastifyRequest } from 'fastify';
import { generateSid } from '../../src/index.js';
import { closeFastify, listenFastify, registerRoutes } from './fastify-util.js';
import { readBody } from './http-util.js';
import {
  BENCH_SECRET,
  type BenchServer,
  IDLE_TIMEOUT_MS,
  inChunks,
  type Route,
  type ServerContext,
  sampleIndices,
} from './protocol.js';

// @fastify/session and @fastify/cookie are loaded untyped on purpose: importing their types would augment
// FastifyRequest.session project-wide and clash with shard-session's own Fastify plugin types.
const require = createRequire(import.meta.url);
const fastifyCookie = require('@fastify/cookie') as FastifyPluginCallback & {
  Signer: new (secret: string, algorithm: string) => { sign(value: string): string };
};
const fastifySession = require('@fastify/session') as FastifyPluginCallback<Record<string, unknown>> & {
  MemoryStore: new () => FastifyStore;
};
// The plugin's own Session class, so pre-filled sessions are exactly what a request would have stored.
const FastifySessionClass = require('@fastify/session/lib/session.js') as new (
  ...args: unknown[]
) => FastifySession;

interface FastifySession {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}
interface FastifyStore {
  set(sid: string, session: FastifySession, callback: (error?: unknown) => void): void;
}

const COOKIE = 'sessionId';
const COOKIE_OPTIONS = { secure: false, httpOnly: true, sameSite: 'lax', maxAge: IDLE_TIMEOUT_MS, path: '/' };

/**
 * Fastify 5 with @fastify/cookie and @fastify/session and its default in-memory store: what a Fastify user
 * would pick. Configured as its README recommends for a login flow and as express-session is here: no session
 * stored before something is set (`saveUninitialized: false`) and no cookie re-sent on every answer
 * (`rolling: false`); sha256 signing (its default), `secure: false` for plain HTTP.
 */
export async function createFastifySessionServer({ counters }: ServerContext): Promise<BenchServer> {
  const store = new fastifySession.MemoryStore();
  const app = Fastify({ logger: false });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: BENCH_SECRET,
    cookieName: COOKIE,
    cookie: COOKIE_OPTIONS,
    store,
    saveUninitialized: false,
    rolling: false,
  });

  const sessionOf = (request: FastifyRequest) => (request as unknown as { session: FastifySession }).session;
  const routes: Record<Route, (request: FastifyRequest) => string> = {
    new: (request) => {
      sessionOf(request).set('user', 'u');
      return 'ok';
    },
    read: (request) => {
      const session = sessionOf(request);
      return readBody(session.get('user'), session.get('count') ?? 0);
    },
    write: (request) => {
      const session = sessionOf(request);
      session.set('last', Date.now());
      return readBody(session.get('user'), session.get('count') ?? 0);
    },
    incr: (request) => {
      const session = sessionOf(request);
      const next = (Number(session.get('count')) || 0) + 1;
      session.set('count', next);
      counters.incrAcks += 1;
      return String(next);
    },
    count: (request) => String(sessionOf(request).get('count') ?? 0),
  };
  registerRoutes(app, (route, request) => routes[route](request));
  const port = await listenFastify(app);

  const signer = new fastifyCookie.Signer(BENCH_SECRET, 'sha256');
  const fakeRequest = { protocol: 'http' };
  return {
    port,
    prefill: async (count, sample) => {
      const picked = sampleIndices(count, sample);
      const cookies: string[] = [];
      await inChunks(count, 10_000, (i) => {
        const sid = generateSid();
        const session = new FastifySessionClass(
          store,
          fakeRequest,
          generateSid,
          COOKIE_OPTIONS,
          signer,
          undefined,
          sid,
        );
        session.set('user', 'u');
        session.set('count', 0);
        if (picked.has(i)) cookies.push(`${COOKIE}=${encodeURIComponent(signer.sign(sid))}`);
        return new Promise<void>((resolve, reject) => {
          store.set(sid, session, (error) => (error ? reject(error) : resolve()));
        });
      });
      return cookies;
    },
    close: () => closeFastify(app),
  };
}
