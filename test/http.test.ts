import { createServer } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createExpressMiddleware, getSession } from '../src/express.js';
import { fastifySessionPlugin } from '../src/fastify.js';
import {
  ClosedError,
  createSessionManager,
  generateSid,
  InvalidOptionError,
  OverloadedError,
  SessionError,
  type SessionManager,
  type SessionProvider,
  ShardUnavailableError,
  StoreUnavailableError,
  withSession,
} from '../src/index.js';
import { Browser, type Listening, listenServer, overriding } from './support/session-helpers.js';

type Data = { count: number; user: string };

let server: Listening | undefined;
let fastify: FastifyInstance | undefined;
let manager: SessionManager<Data> | undefined;

afterEach(async () => {
  await server?.close();
  await fastify?.close();
  await manager?.close();
  server = undefined;
  fastify = undefined;
  manager = undefined;
});

/** The answer to a failure that passes by itself: 503, with Retry-After. */
function expectRetryLater(response: globalThis.Response, what: string): void {
  expect(response.status, what).toBe(503);
  expect(response.headers.get('retry-after'), what).toBe('1');
}

/** Starts `app` on a free port of 127.0.0.1; resolves its base URL. */
async function listenFastify(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://127.0.0.1:${port}`;
}

/** A provider whose reads fail with `error` for one chosen id and otherwise defers to memory. */
function failingProvider(base: SessionProvider, failingSid: string, error: Error): SessionProvider {
  return {
    ...base,
    init: base.init.bind(base),
    commit: base.commit.bind(base),
    incr: base.incr.bind(base),
    rename: base.rename.bind(base),
    destroy: base.destroy.bind(base),
    gc: base.gc.bind(base),
    count: base.count.bind(base),
    stats: base.stats.bind(base),
    close: base.close.bind(base),
    read: (sid) => (sid === failingSid ? Promise.reject(error) : base.read(sid)),
  };
}

describe('node:http adapter', () => {
  it('answers 503 with Retry-After for failures that pass by themselves, 500 for the others', async () => {
    const failures = overloadedAndBroken();
    manager = createSessionManager<Data>({ provider: failures.provider });
    server = await listenServer(createServer(withSession(manager, (_req, res) => res.end('ok'))));
    await failures.expectMapped(server.url, 500);
  });
});

describe('Express adapter', () => {
  async function startExpress(provider: SessionProvider | 'memory' = 'memory') {
    manager = createSessionManager<Data>({ provider });
    const app = express();
    app.use(createExpressMiddleware(manager));
    app.get('/count', async (req, res, next) => {
      try {
        res.type('text/plain').send(String(await getSession<Data>(req).incr('count')));
      } catch (error) {
        next(error);
      }
    });
    app.post('/login', async (req, res) => {
      const session = getSession<Data>(req);
      await session.regenerate();
      session.set('user', 'ann');
      res.redirect(302, '/');
    });
    app.get('/', (req, res) => {
      res.send(`user=${getSession<Data>(req).get('user') ?? ''}`);
    });
    app.post('/logout', async (req, res) => {
      await getSession<Data>(req).destroy();
      res.redirect(302, '/');
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      res.status(418).send(error instanceof SessionError ? error.code : 'other');
    });
    server = await listenServer(createServer(app));
    return new Browser(server.url);
  }

  it('counts, logs in with a regenerated id, and logs out', async () => {
    const browser = await startExpress();
    expect(await browser.text('/count')).toBe('1');
    expect(await browser.text('/count')).toBe('2');
    const before = await browser.cookie('sid');
    const login = await browser.fetch('/login', { method: 'POST' });
    expect(login.status).toBe(302);
    const after = await browser.cookie('sid');
    expect(after).not.toBe(before);
    expect(await browser.text('/')).toBe('user=ann');
    expect(await browser.text('/count')).toBe('3');
    // The pre-login id is dead: whoever still holds it gets a new session, not the counter (or the login).
    const stale = await fetch(`${server?.url}/count`, { headers: { cookie: `sid=${before}` } });
    expect(await stale.text()).toBe('1');
    const logout = await browser.fetch('/logout', { method: 'POST' });
    expect(logout.status).toBe(302);
    expect(await browser.cookie('sid')).toBeUndefined();
    expect(await browser.text('/')).toBe('user=');
  });

  it('getSession throws a SessionError when the middleware did not run', () => {
    expect(() => getSession({})).toThrow(SessionError);
  });

  it('answers 503 with Retry-After on overload and passes other store errors to next(err)', async () => {
    const failures = overloadedAndBroken();
    await failures.expectMapped((await startExpress(failures.provider)).base);
  });
});

describe('Fastify plugin', () => {
  async function startFastify(provider: SessionProvider | 'memory' = 'memory') {
    manager = createSessionManager<Data>({ provider });
    const app = Fastify();
    fastify = app;
    // Registered through register(), which encapsulates: like a fastify-plugin plugin it must still decorate
    // the registering context, so routes of the root and of sibling contexts all get request.session.
    await app.register(fastifySessionPlugin, { manager });
    app.get('/count', async (request, reply) => {
      reply.type('text/plain');
      return String(await request.session.incr('count'));
    });
    await app.register(async (sibling) => {
      sibling.post('/login', async (request, reply) => {
        await request.session.regenerate();
        request.session.set('user', 'ann');
        return reply.redirect('/', 302);
      });
    });
    app.get('/', async (request) => `user=${request.session.get('user') ?? ''}`);
    app.get('/other-cookie', async (request, reply) => {
      request.session.set('user', 'bob');
      reply.header('set-cookie', 'theme=dark; Path=/');
      return 'ok';
    });
    app.post('/logout', async (request, reply) => {
      await request.session.destroy();
      return reply.redirect('/', 302);
    });
    app.setErrorHandler((error, _request, reply) => {
      reply.code(418).send(error instanceof SessionError ? error.code : 'other');
    });
    return new Browser(await listenFastify(app));
  }

  it('counts, logs in with a regenerated id, and logs out, in every encapsulation context', async () => {
    const browser = await startFastify();
    expect(await browser.text('/count')).toBe('1');
    expect(await browser.text('/count')).toBe('2');
    const before = await browser.cookie('sid');
    const login = await browser.fetch('/login', { method: 'POST' });
    expect(login.status).toBe(302);
    expect(await browser.cookie('sid')).not.toBe(before);
    expect(await browser.text('/')).toBe('user=ann');
    expect(await browser.text('/count')).toBe('3');
    // The pre-login id is dead: whoever still holds it gets a new session, not the counter (or the login).
    const stale = await fetch(`${browser.base}/count`, { headers: { cookie: `sid=${before}` } });
    expect(await stale.text()).toBe('1');
    await browser.fetch('/logout', { method: 'POST' });
    expect(await browser.cookie('sid')).toBeUndefined();
    expect(await browser.text('/')).toBe('user=');
  });

  it('refuses to register without a manager, with InvalidOptionError', async () => {
    const app = Fastify();
    fastify = app;
    await expect(app.register(fastifySessionPlugin, {} as never)).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it("refuses options that are not its own or Fastify's (@fastify/session's secret, cookieName …)", async () => {
    manager = createSessionManager<Data>({ provider: 'memory' });
    for (const extra of [
      { secret: 'x'.repeat(32) },
      { cookieName: 'my.sid' },
      { cookie: { secure: true } },
    ]) {
      const app = Fastify();
      await expect(
        app.register(fastifySessionPlugin, { manager, ...extra } as never),
        Object.keys(extra)[0],
      ).rejects.toThrow(new RegExp(`unknown option '${Object.keys(extra)[0]}' of fastifySessionPlugin`));
      await app.close();
    }
    // Fastify's own register options reach the plugin too, and are fine.
    const app = Fastify();
    fastify = app;
    await app.register(fastifySessionPlugin, { manager, prefix: '/app', logLevel: 'warn' });
    await app.ready();
  });

  it("keeps the app's own Set-Cookie next to the session cookie", async () => {
    const browser = await startFastify();
    const response = await browser.fetch('/other-cookie');
    const lines = response.headers.getSetCookie();
    expect(lines.some((l) => l.startsWith('theme=dark'))).toBe(true);
    expect(lines.some((l) => l.startsWith('sid='))).toBe(true);
    expect(await browser.text('/')).toBe('user=bob');
  });

  it('answers 503 with Retry-After on overload and sends other store errors to the error handler', async () => {
    const failures = overloadedAndBroken();
    await failures.expectMapped((await startFastify(failures.provider)).base);
  });
});

/**
 * A store that fails reads for chosen ids — overloaded, a shard restarting, an external store unreachable,
 * and broken (a SessionError that does not pass by itself) — and the check every adapter must pass with it:
 * 503 + Retry-After for the first three, the framework's error handler (418 with the code, in these apps)
 * for the last.
 */
function overloadedAndBroken() {
  const memory = createSessionManager({ provider: 'memory' }).provider;
  const retryable = [
    new OverloadedError(),
    new ShardUnavailableError(),
    new StoreUnavailableError(),
    new ClosedError(),
  ].map((error) => ({ sid: generateSid(), error }));
  const brokenSid = generateSid();
  let provider = failingProvider(memory, brokenSid, new SessionError('ERR_BROKEN', 'broken'));
  for (const { sid, error } of retryable) provider = failingProvider(provider, sid, error);
  return {
    provider,
    async expectMapped(base: string, brokenStatus = 418) {
      for (const { sid, error } of retryable) {
        expectRetryLater(await fetch(`${base}/`, { headers: { cookie: `sid=${sid}` } }), error.name);
      }
      const broken = await fetch(`${base}/`, { headers: { cookie: `sid=${brokenSid}` } });
      expect(broken.status).toBe(brokenStatus);
      if (brokenStatus === 418) expect(await broken.text()).toBe('ERR_BROKEN');
    },
  };
}

describe("a failure that passes by itself, thrown by the handler, reaches the framework's default error handler as 503", () => {
  // The adapters answer such a failure themselves while the session loads; once the handler runs, it is the
  // framework's to answer, and the error carries what its default handler sends: 503 and Retry-After.
  const saveFailing = (error: Error) =>
    overriding(createSessionManager({ provider: 'memory' }).provider, { init: () => Promise.reject(error) });
  const retryable = [
    new OverloadedError(),
    new ShardUnavailableError(),
    new StoreUnavailableError(),
    new ClosedError(),
  ];

  it('Express (finalhandler)', async () => {
    for (const error of retryable) {
      manager = createSessionManager<Data>({ provider: saveFailing(error) });
      const app = express();
      app.use(createExpressMiddleware(manager));
      app.get('/save', async (req, res, next) => {
        try {
          const session = getSession<Data>(req);
          session.set('user', 'ann');
          await session.save();
          res.send('saved');
        } catch (failure) {
          next(failure);
        }
      });
      server = await listenServer(createServer(app));
      expectRetryLater(await fetch(`${server.url}/save`), error.name);
      await server.close();
      await manager.close();
    }
    server = undefined;
    manager = undefined;
  });

  it('Fastify', async () => {
    for (const error of retryable) {
      manager = createSessionManager<Data>({ provider: saveFailing(error) });
      const app = Fastify();
      fastify = app;
      await app.register(fastifySessionPlugin, { manager });
      app.get('/save', async (request) => {
        request.session.set('user', 'ann');
        await request.session.save();
        return 'saved';
      });
      expectRetryLater(await fetch(`${await listenFastify(app)}/save`), error.name);
      await app.close();
      await manager.close();
    }
    fastify = undefined;
    manager = undefined;
  });
});

describe('a logout the store could not do', () => {
  it('answers 503 and keeps the cookie (the session is still there), so the client can log out again', async () => {
    let storeAway = false;
    const memory = createSessionManager({ provider: 'memory' }).provider;
    const provider = overriding(memory, {
      destroy: (sid) => (storeAway ? Promise.reject(new StoreUnavailableError()) : memory.destroy(sid)),
    });
    manager = createSessionManager<Data>({ provider });
    server = await listenServer(
      createServer(
        withSession(manager, async (req, res, session) => {
          if (req.url === '/login') session.set('user', 'ann');
          if (req.url === '/logout') await session.destroy();
          res.end(`user=${session.destroyed ? '' : (session.get('user') ?? '')}`);
        }),
      ),
    );
    const browser = new Browser(server.url);
    await browser.text('/login');
    storeAway = true;
    const failed = await browser.fetch('/logout');
    expectRetryLater(failed, 'a failed logout');
    expect(failed.headers.getSetCookie()).toEqual([]);
    expect(await browser.text('/')).toBe('user=ann');
    storeAway = false;
    const loggedOut = await browser.fetch('/logout');
    expect(loggedOut.status).toBe(200);
    expect(loggedOut.headers.getSetCookie()).toEqual([expect.stringMatching(/^sid=; Max-Age=0;/)]);
    expect(await browser.text('/')).toBe('user=');
  });
});
