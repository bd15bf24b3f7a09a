import express from 'express';
import session from 'express-session';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShardSessionStore } from '../../src/express-session.js';
import { Browser, type Listening, listenServer } from '../support/session-helpers.js';
import { StoreCalls } from '../support/store-calls.js';

// An express-session app, as such apps are written, with ShardSessionStore as its store: real HTTP on
// 127.0.0.1, a real cookie jar, express-session's own clock (Date) faked to drive expiry.
const START = Date.UTC(2026, 0, 1);
const MAX_AGE = 60_000;

declare module 'express-session' {
  interface SessionData {
    count: number;
    user: string;
  }
}

let server: Listening | undefined;
let store: ShardSessionStore | undefined;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
});
afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  await store?.close();
  server = undefined;
  store = undefined;
});

async function startApp(provider: 'memory' | 'sharded') {
  store = new ShardSessionStore(
    provider === 'memory' ? { provider } : { provider, providerOptions: { shards: 2 } },
  );
  const calls = new StoreCalls(store);
  const app = express();
  app.use(
    session({
      secret: 'keyboard cat',
      store,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { maxAge: MAX_AGE },
    }),
  );
  app.get('/count', (req, res) => {
    req.session.count = (req.session.count ?? 0) + 1;
    res.json({ count: req.session.count, user: req.session.user ?? null });
  });
  app.get('/read', (req, res) => res.json({ count: req.session.count ?? 0, user: req.session.user ?? null }));
  app.post('/login', (req, res, next) => {
    const count = req.session.count;
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.user = 'ann';
      if (count !== undefined) req.session.count = count;
      res.redirect('/read');
    });
  });
  app.post('/logout', (req, res, next) =>
    req.session.destroy((error) => (error ? next(error) : res.end('bye'))),
  );
  app.get('/admin/sessions', async (_req, res, next) => {
    try {
      res.json({ ids: Object.keys(await calls.all()).sort(), length: await calls.length() });
    } catch (error) {
      next(error);
    }
  });
  app.post('/admin/clear', (_req, res, next) =>
    store?.clear((error) => (error ? next(error) : res.end('cleared'))),
  );
  server = await listenServer(app.listen(0, '127.0.0.1'));
  return server.url;
}

/**
 * A request whose whole answer is read, as a browser does before it follows a link. express-session sends the
 * headers before its store acknowledged the save and holds back only the last byte of the body: a client
 * that moved on at the headers could overtake the save.
 */
async function visit(browser: Browser, path: string, init?: RequestInit): Promise<string> {
  return (await browser.fetch(path, init)).text();
}

/** The express-session id inside a signed `connect.sid` cookie value (`s:<id>.<signature>`). */
function idOf(cookie: string | undefined): string {
  const match = /^s:([^.]+)\./.exec(decodeURIComponent(cookie ?? ''));
  if (!match) throw new Error(`not a signed session cookie: ${cookie}`);
  return match[1] as string;
}

describe.each(['memory', 'sharded'] as const)("express-session with ShardSessionStore, '%s'", (provider) => {
  it('creates, reads and modifies a session per client', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    expect(await (await ann.fetch('/read')).json()).toEqual({ count: 0, user: null });
    expect(await ann.cookie('connect.sid')).toBeUndefined(); // saveUninitialized: false
    expect(await (await ann.fetch('/count')).json()).toMatchObject({ count: 1 });
    expect(await (await ann.fetch('/count')).json()).toMatchObject({ count: 2 });
    expect(await (await ann.fetch('/read')).json()).toMatchObject({ count: 2 });
    expect(await (await new Browser(url).fetch('/count')).json()).toMatchObject({ count: 1 });
  });

  it('regenerates at login: a new id that carries on, the old one dead', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    await visit(ann, '/count');
    const before = await ann.cookie('connect.sid');
    const login = await ann.fetch('/login', { method: 'POST' });
    expect(login.status).toBe(302);
    await login.text();
    const after = await ann.cookie('connect.sid');
    expect(idOf(after)).not.toBe(idOf(before));
    expect(await (await ann.fetch('/read')).json()).toEqual({ count: 1, user: 'ann' });
    const stale = await fetch(`${url}/read`, { headers: { cookie: `connect.sid=${before}` } });
    expect(await stale.json()).toEqual({ count: 0, user: null });
  });

  it('destroys a session at logout', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    await visit(ann, '/count');
    const cookie = await ann.cookie('connect.sid');
    expect(await (await ann.fetch('/admin/sessions')).json()).toEqual({ ids: [idOf(cookie)], length: 1 });
    expect(await (await ann.fetch('/logout', { method: 'POST' })).text()).toBe('bye');
    const after = await fetch(`${url}/read`, { headers: { cookie: `connect.sid=${cookie}` } });
    expect(await after.json()).toEqual({ count: 0, user: null });
    expect(await (await ann.fetch('/admin/sessions')).json()).toEqual({ ids: [], length: 0 });
  });

  it('slides the expiry on every request (rolling, touch) and ends the session once it is idle too long', async () => {
    const url = await startApp(provider);
    const ann = new Browser(url);
    await visit(ann, '/count');
    const cookie = await ann.cookie('connect.sid');
    for (let i = 0; i < 4; i++) {
      vi.setSystemTime(Date.now() + MAX_AGE - 10_000); // each read touches the session before it expires
      expect(await (await ann.fetch('/read')).json()).toMatchObject({ count: 1 });
    }
    expect(Date.now() - START).toBeGreaterThan(3 * MAX_AGE);
    vi.setSystemTime(Date.now() + MAX_AGE);
    // The store ended it, not only the browser: the old cookie sent as is finds nothing.
    const late = await fetch(`${url}/read`, { headers: { cookie: `connect.sid=${cookie}` } });
    expect(await late.json()).toEqual({ count: 0, user: null });
    expect(await (await ann.fetch('/admin/sessions')).json()).toEqual({ ids: [], length: 0 });
  });

  it('lists, counts and clears the sessions of every client', async () => {
    const url = await startApp(provider);
    const browsers = [new Browser(url), new Browser(url), new Browser(url)];
    for (const browser of browsers) await visit(browser, '/count');
    const ids = await Promise.all(browsers.map(async (b) => idOf(await b.cookie('connect.sid'))));
    expect(await (await browsers[0]?.fetch('/admin/sessions'))?.json()).toEqual({
      ids: ids.sort(),
      length: 3,
    });
    await visit(browsers[0] as Browser, '/admin/clear', { method: 'POST' });
    for (const browser of browsers)
      expect(await (await browser.fetch('/read')).json()).toMatchObject({ count: 0 });
    expect(await (await browsers[0]?.fetch('/admin/sessions'))?.json()).toEqual({ ids: [], length: 0 });
  });
});
