import { createServer } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, OverloadedError, SessionError } from '../src/errors.js';
import { getSession } from '../src/http/express.js';
import { fastifySessionPlugin } from '../src/http/fastify.js';
import { withSession } from '../src/http/node.js';
import type { SessionManager } from '../src/manager.js';
import { type Listening, listenServer } from './support/session-helpers.js';

// What http.test.ts leaves out of the adapters (found by mutation testing): the node:http wrapper handing the
// session to the handler, getSession's typed error, the Fastify plugin's checks of its options and its 503
// body. A stand-in manager answers start(); http.test.ts runs the adapters on real managers.

let server: Listening | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  await app?.close();
  server = undefined;
  app = undefined;
});

const managerStarting = (start: () => Promise<unknown>) => ({ start }) as unknown as SessionManager<object>;

describe('adapters: edges', () => {
  it('withSession hands the session start() gave to the handler, over real HTTP', async () => {
    const session = { id: 'the-session' };
    const handler = withSession(
      managerStarting(async () => session),
      (_req, res, got) => {
        res.end(got === session ? got.id : 'another session');
      },
    );
    server = await listenServer(createServer(handler));
    const response = await fetch(server.url);
    expect(await response.text()).toBe('the-session');
  });

  it('getSession refuses a request the middleware did not run for, with ERR_NO_SESSION', () => {
    for (const req of [{}, { session: { id: 'not ours' } }]) {
      expect(() => getSession(req)).toThrow(
        new SessionError(
          'ERR_NO_SESSION',
          'no session on this request: install createExpressMiddleware(manager) before this route',
        ),
      );
      try {
        getSession(req);
      } catch (error) {
        expect((error as SessionError).code).toBe('ERR_NO_SESSION');
      }
    }
  });

  it('the Fastify plugin refuses missing options and a manager without start(), and decorates request.session', async () => {
    const message = 'fastifySessionPlugin needs { manager } (from createSessionManager)';
    const bare = Fastify();
    await expect(fastifySessionPlugin(bare, undefined as never)).rejects.toThrow(
      new InvalidOptionError(message),
    );
    await expect(fastifySessionPlugin(bare, { manager: {} as never })).rejects.toThrow(
      new InvalidOptionError(message),
    );
    await bare.close();
    app = Fastify();
    await app.register(fastifySessionPlugin, { manager: managerStarting(async () => ({ id: 's' })) });
    app.get('/', async (request) => ({ id: (request.session as unknown as { id: string }).id }));
    await app.ready();
    expect(app.hasRequestDecorator('session')).toBe(true);
    expect((await app.inject('/')).json()).toEqual({ id: 's' });
  });

  it('the Fastify plugin answers an overloaded store with a 503 JSON body saying so', async () => {
    app = Fastify();
    await app.register(fastifySessionPlugin, {
      manager: managerStarting(() => Promise.reject(new OverloadedError())),
    });
    app.get('/', async () => 'unreachable');
    const response = await app.inject('/');
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json()).toEqual({ error: 'Service Unavailable', message: 'session store unavailable' });
  });
});
