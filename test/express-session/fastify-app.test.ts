import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShardSessionStore } from '../../src/express-session.js';
import { Browser } from '../support/session-helpers.js';

// @fastify/session with ShardSessionStore as its `store`, over real HTTP. The plugin and @fastify/cookie are
// loaded untyped, as in the bench: their types would augment FastifyRequest.session project-wide and clash
// with shard-session's own Fastify plugin. (The packaging test type-checks this pairing in its own project.)
const require = createRequire(import.meta.url);
const fastifyCookie = require('@fastify/cookie') as FastifyPluginCallback;
const fastifySession = require('@fastify/session') as FastifyPluginCallback<Record<string, unknown>>;

interface PluginSession {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  regenerate(): Promise<void>;
  destroy(): Promise<void>;
}
const sessionOf = (request: FastifyRequest) => (request as unknown as { session: PluginSession }).session;

const START = Date.UTC(2026, 0, 1);
const MAX_AGE = 60_000;
let app: FastifyInstance | undefined;
let store: ShardSessionStore | undefined;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
});
afterEach(async () => {
  vi.useRealTimers();
  await app?.close();
  await store?.close();
  app = undefined;
  store = undefined;
});

async function startApp(provider: 'memory' | 'sharded'): Promise<string> {
  store = new ShardSessionStore(
    provider === 'memory' ? { provider } : { provider, providerOptions: { shards: 2 } },
  );
  app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: 'a secret with minimum length of 32 characters',
    store,
    saveUninitialized: false,
    cookie: { secure: false, maxAge: MAX_AGE },
  });
  app.get('/count', async (request) => {
    const session = sessionOf(request);
    session.set('count', ((session.get('count') as number | undefined) ?? 0) + 1);
    return { count: session.get('count'), user: session.get('user') ?? null };
  });
  app.get('/read', async (request) => {
    const session = sessionOf(request);
    return { count: session.get('count') ?? 0, user: session.get('user') ?? null };
  });
  app.post('/login', async (request) => {
    const count = sessionOf(request).get('count');
    await sessionOf(request).regenerate(); // request.session is a new Session from here on
    sessionOf(request).set('count', count);
    sessionOf(request).set('user', 'ann');
    return 'welcome';
  });
  app.post('/logout', async (request) => {
    await sessionOf(request).destroy();
    return 'bye';
  });
  return app.listen({ port: 0, host: '127.0.0.1' });
}

async function json(browser: Browser, path: string, init?: RequestInit): Promise<unknown> {
  return (await browser.fetch(path, init)).json();
}

describe.each(['memory', 'sharded'] as const)("@fastify/session with ShardSessionStore, '%s'", (provider) => {
  it('creates, reads and modifies a session per client', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    expect(await json(ann, '/count')).toEqual({ count: 1, user: null });
    expect(await json(ann, '/count')).toEqual({ count: 2, user: null });
    expect(await json(ann, '/read')).toEqual({ count: 2, user: null });
    expect(await json(new Browser(url), '/read')).toEqual({ count: 0, user: null });
    expect(await new Promise((resolve) => store?.length((_error, n) => resolve(n)))).toBe(1);
  });

  it('regenerates at login, and the old id finds nothing', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    await json(ann, '/count');
    const before = await ann.cookie('sessionId');
    expect(await (await ann.fetch('/login', { method: 'POST' })).text()).toBe('welcome');
    expect(await ann.cookie('sessionId')).not.toBe(before);
    expect(await json(ann, '/read')).toEqual({ count: 1, user: 'ann' });
    const stale = await fetch(`${url}/read`, { headers: { cookie: `sessionId=${before}` } });
    expect(await stale.json()).toEqual({ count: 0, user: null });
  });

  it('destroys a session at logout', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    await json(ann, '/count');
    const cookie = await ann.cookie('sessionId');
    expect(await (await ann.fetch('/logout', { method: 'POST' })).text()).toBe('bye');
    const after = await fetch(`${url}/read`, { headers: { cookie: `sessionId=${cookie}` } });
    expect(await after.json()).toEqual({ count: 0, user: null });
  });

  it('ends a session after its maxAge without a visit', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    await json(ann, '/count');
    const cookie = await ann.cookie('sessionId');
    vi.setSystemTime(START + MAX_AGE - 1);
    expect(await json(ann, '/read')).toEqual({ count: 1, user: null });
    vi.setSystemTime(START + 3 * MAX_AGE);
    const late = await fetch(`${url}/read`, { headers: { cookie: `sessionId=${cookie}` } });
    expect(await late.json()).toEqual({ count: 0, user: null });
    expect(await new Promise((resolve) => store?.length((_error, n) => resolve(n)))).toBe(0);
  });
});
