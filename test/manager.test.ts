import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue } from '../src/codec.js';
import {
  ClosedError,
  createSessionManager,
  generateSid,
  InvalidOptionError,
  type SessionManager,
  type SessionManagerBaseOptions,
  type SessionManagerOptions,
  TOUCH_FRACTION,
  UnknownProviderError,
  withSession,
} from '../src/index.js';
import { overlappingWrites } from './support/overlap.js';
import { Browser, Clock, type Listening, listen, sessionApp } from './support/session-helpers.js';

const IDLE = 30 * 60_000;

let server: Listening | undefined;
let manager: SessionManager | undefined;

afterEach(async () => {
  await server?.close();
  await manager?.close();
  server = undefined;
  manager = undefined;
});

async function start(options: SessionManagerBaseOptions = {}) {
  const clock = new Clock();
  manager = createSessionManager({
    provider: 'memory',
    providerOptions: { gcIntervalMs: 0 },
    now: clock.now,
    ...options,
  });
  server = await listen(sessionApp(manager));
  return { clock, manager, browser: new Browser(server.url), url: server.url };
}

function parseSetCookie(line: string): Record<string, string | true> {
  const attrs: Record<string, string | true> = {};
  for (const [i, part] of line.split(';').entries()) {
    const [name, ...rest] = part.trim().split('=');
    attrs[i === 0 ? 'cookie' : (name as string).toLowerCase()] =
      i === 0 ? part.trim() : rest.join('=') || true;
  }
  return attrs;
}

describe('manager options', () => {
  it('rejects invalid options with InvalidOptionError at construction', () => {
    const bad: SessionManagerOptions[] = [
      { idleTimeout: '10 minutes' },
      { idleTimeout: -5 },
      { absoluteTimeout: 'soon' },
      { cookieName: 'bad name' },
      { cookie: { sameSite: 'sideways' as never } },
      { cookie: { sameSite: 'none', secure: false } },
      { cookie: { path: 'relative' } },
      { secrets: [] },
      { secrets: [''] },
      { transports: [] },
      { transports: ['cookie', 'cookie'] },
      { transports: ['pigeon' as never] },
      { headerName: 'x session' },
      { trustProxy: 'yes' as never },
      { provider: {} as never },
      // Attributes the cookie library cannot write: before, each was accepted and every request answered 500.
      { cookie: { domain: 'bad domain' } },
      { cookie: { domain: 'exa;mple.com' } },
      { cookie: { path: '/a;b' } },
      { cookie: { sameSite: 'lax', secure: 'yes' as never } },
      { cookie: { maxAge: 5 } as never },
      // Typos are refused by name, in the manager's options and in a provider's.
      { idleTimout: '5m' } as never,
      { providerOptions: { gcIntervalMS: 0 } as never },
      { limits: { maxKey: 5 } as never },
    ];
    for (const options of bad) {
      expect(() => createSessionManager({ provider: 'memory', ...options }), JSON.stringify(options)).toThrow(
        InvalidOptionError,
      );
    }
    expect(() => createSessionManager({ provider: 'nope' as never })).toThrow(UnknownProviderError);
    expect(() =>
      createSessionManager({ provider: 'sharded', providerOptions: { shard: 2 } as never }),
    ).toThrow(/unknown option 'shard' of the 'sharded' provider/);
  });

  it('types providerOptions per provider: a typo is a compile error', () => {
    const typo = () =>
      // @ts-expect-error `shard` is not an option of the 'sharded' provider (`shards` is)
      createSessionManager({ provider: 'sharded', providerOptions: { shard: 2 } });
    const wrongProvider = () =>
      // @ts-expect-error `shards` is an option of 'sharded', not of 'memory'
      createSessionManager({ provider: 'memory', providerOptions: { shards: 2 } });
    expect(typo).toThrow(InvalidOptionError);
    expect(wrongProvider).toThrow(InvalidOptionError);
  });

  it('parses durations and exposes the policy', async () => {
    manager = createSessionManager({ provider: 'memory', idleTimeout: '15m', absoluteTimeout: '1h30m' });
    expect(manager.policy).toEqual({ idleTimeoutMs: 15 * 60_000, absoluteTimeoutMs: 90 * 60_000 });
  });

  it('rejects start after close with ClosedError', async () => {
    const m = createSessionManager({ provider: 'memory' });
    await m.close();
    await expect(m.start({} as never, {} as never)).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('the manager per request', () => {
  /** Serves `handler` with a fresh memory manager; resolves the manager and the server's URL. */
  async function serve(
    handler: (m: SessionManager, req: IncomingMessage, res: ServerResponse) => Promise<unknown>,
    options: SessionManagerBaseOptions = {},
  ) {
    const m = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 }, ...options });
    manager = m;
    server = await listen((req, res) => {
      handler(m, req, res).then(
        (body) => res.end(JSON.stringify(body ?? null)),
        (error: Error) => res.end(JSON.stringify({ error: error.name, message: error.message })),
      );
    });
    return { m, url: server.url };
  }

  it('start() gives one session per request, also to concurrent calls; current() finds it', async () => {
    const { url } = await serve(async (m, req, res) => {
      const before = m.current(req);
      const [a, b] = await Promise.all([m.start(req, res), m.start(req, res)]);
      const c = await m.start(req, res);
      return { before: before ?? null, same: a === b && b === c && m.current(req) === a };
    });
    expect(await (await fetch(url)).json()).toEqual({ before: null, same: true });
    // With a stored id, loading awaits the store: the second call must wait for the first load.
    const sid = generateSid();
    await manager?.provider.init(sid, manager.policy);
    expect(await (await fetch(url, { headers: { cookie: `sid=${sid}` } })).json()).toEqual({
      before: null,
      same: true,
    });
  });

  it('a failed read is not shared with a later start(): thrown or rejected, the next call reads again', async () => {
    const { url, m } = await serve(async (m, req, res) => {
      const provider = m.provider as { read: (sid: string) => Promise<unknown> };
      const read = provider.read.bind(m.provider);
      const failures: string[] = [];
      // A provider that throws instead of rejecting breaks the contract; start() must not keep that load.
      provider.read = () => {
        throw new Error('thrown');
      };
      await m.start(req, res).catch((error: Error) => failures.push(error.message));
      provider.read = () => Promise.reject(new Error('rejected'));
      await m.start(req, res).catch((error: Error) => failures.push(error.message));
      provider.read = read;
      const session = await m.start(req, res);
      return { failures, isNew: session.isNew, same: (await m.start(req, res)) === session };
    });
    const sid = generateSid();
    await m.provider.init(sid, m.policy);
    const response = await fetch(url, { headers: { cookie: `sid=${sid}` } });
    expect(await response.json()).toEqual({ failures: ['thrown', 'rejected'], isNew: false, same: true });
  });

  it('destroy() called while start() is loading destroys the session start() resolves', async () => {
    const { url, m } = await serve(async (m, req, res) => {
      const loading = m.start(req, res);
      await m.destroy(req, res);
      const session = await loading;
      return { destroyed: session.destroyed };
    });
    const sid = generateSid();
    await m.provider.init(sid, m.policy);
    const response = await fetch(url, { headers: { cookie: `sid=${sid}` } });
    expect(await response.json()).toEqual({ destroyed: true });
    expect(await m.provider.read(sid)).toBeNull();
  });

  it('destroy() without start() kills the client’s id once and expires its cookie', async () => {
    const { url, m } = await serve(async (m, req, res) => {
      await m.destroy(req, res);
      await m.destroy(req, res);
      const fresh = await m.start(req, res);
      return { isNew: fresh.isNew };
    });
    const destroyed: string[] = [];
    const destroy = m.provider.destroy.bind(m.provider);
    m.provider.destroy = (sid) => {
      destroyed.push(sid);
      return destroy(sid);
    };
    const sid = generateSid();
    await m.provider.init(sid, m.policy);
    const response = await fetch(url, { headers: { cookie: `sid=${sid}` } });
    expect(await response.json()).toEqual({ isNew: true });
    expect(destroyed).toEqual([sid]);
    expect(response.headers.getSetCookie()[0]).toMatch(/^sid=; Max-Age=0;/);
    expect(await m.provider.read(sid)).toBeNull();
    // Without an id, there is nothing to ask the store.
    await (await fetch(url)).arrayBuffer();
    expect(destroyed).toEqual([sid]);
  });

  it('a session started after the headers went out is never stored (its id could not reach the client)', async () => {
    const { url, m } = await serve(async (m, req, res) => {
      res.flushHeaders();
      const session = await m.start(req, res);
      session.set('k', 'v');
      await session.save();
      return { stored: await m.count() };
    });
    expect(await (await fetch(url)).json()).toEqual({ stored: 0 });
    expect(await m.count()).toBe(0);
  });

  it('rewriteLinks() leaves HTML alone without the URL transport', async () => {
    const { url } = await serve(async (m, req, res) => {
      const session = await m.start(req, res);
      session.set('k', 'v');
      return { html: m.rewriteLinks('<a href="/a">', session), link: session.url('/a') };
    });
    expect(await (await fetch(url)).json()).toEqual({ html: '<a href="/a">', link: '/a' });
  });

  it('after close(), start and destroy reject ClosedError saying so, and the provider is closed once', async () => {
    const m = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } });
    let closes = 0;
    const close = m.provider.close.bind(m.provider);
    m.provider.close = () => {
      closes++;
      return close();
    };
    await m.close();
    await m.close();
    expect(closes).toBe(1);
    await expect(m.start({} as never, {} as never)).rejects.toThrow(/session manager is closed/);
    await expect(m.destroy({} as never, {} as never)).rejects.toThrow(ClosedError);
    await expect(m.destroy({} as never, {} as never)).rejects.toThrow(/session manager is closed/);
  });
});

describe('session lifecycle over node:http', () => {
  it('does not store or send a cookie for a session nothing was set in', async () => {
    const { browser, manager } = await start();
    const response = await browser.fetch('/nothing');
    expect(await response.json()).toMatchObject({ isNew: true });
    expect(response.headers.getSetCookie()).toEqual([]);
    expect(response.headers.get('vary')).toBe('Cookie');
    expect(await manager.count()).toBe(0);
  });

  it('sends a secure-by-default cookie once something is set, and reads it back', async () => {
    const { browser, manager } = await start();
    const first = await browser.fetch('/set?key=user&value=ann');
    const { id } = (await first.json()) as { id: string };
    const [line] = first.headers.getSetCookie();
    const attrs = parseSetCookie(line as string);
    expect(attrs.cookie).toBe(`sid=${id}`);
    expect(attrs.httponly).toBe(true);
    expect(attrs.samesite).toBe('Lax');
    expect(attrs.path).toBe('/');
    expect(attrs['max-age']).toBe(String(IDLE / 1000));
    expect(attrs.secure).toBeUndefined();
    expect(await manager.count()).toBe(1);

    const second = await browser.fetch('/get?key=user');
    expect(await second.json()).toEqual({ id, isNew: false, value: 'ann' });
    // Unchanged id, expiry not due to move: no cookie on this response.
    expect(second.headers.getSetCookie()).toEqual([]);
  });

  it('honours cookie options: name, domain, path, sameSite, partitioned, session cookies, secure', async () => {
    const { browser } = await start({
      cookieName: 'app.sid',
      cookie: {
        path: '/',
        domain: '127.0.0.1',
        sameSite: 'strict',
        partitioned: true,
        persistent: false,
        secure: false,
      },
    });
    const response = await browser.fetch('/set?value=1');
    const attrs = parseSetCookie(response.headers.getSetCookie()[0] as string);
    expect(String(attrs.cookie).startsWith('app.sid=')).toBe(true);
    expect(attrs.domain).toBe('127.0.0.1');
    expect(attrs.samesite).toBe('Strict');
    expect(attrs.partitioned).toBe(true);
    expect(attrs['max-age']).toBeUndefined();
    expect(attrs.secure).toBeUndefined();
  });

  it("sets Secure under 'auto' only for a trusted proxy's https", async () => {
    const trusted = await start({ trustProxy: true });
    const viaProxy = await fetch(`${trusted.url}/set?value=1`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(parseSetCookie(viaProxy.headers.getSetCookie()[0] as string).secure).toBe(true);
    await server?.close();
    await manager?.close();

    const untrusted = await start();
    const spoofed = await fetch(`${untrusted.url}/set?value=1`, {
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(parseSetCookie(spoofed.headers.getSetCookie()[0] as string).secure).toBeUndefined();
  });

  it('never adopts an id the store does not know (fixation)', async () => {
    const { url, manager } = await start();
    const madeUp = generateSid();
    const response = await fetch(`${url}/set?value=x`, { headers: { cookie: `sid=${madeUp}` } });
    const { id } = (await response.json()) as { id: string };
    expect(id).not.toBe(madeUp);
    expect(response.headers.getSetCookie()[0]).toContain(`sid=${id}`);
    expect(await manager.provider.read(madeUp)).toBeNull();
  });

  it('regenerate keeps the data under a new id and kills the old id at once', async () => {
    const { browser, url } = await start();
    const { id: oldId } = (await (await browser.fetch('/set?key=user&value=ann')).json()) as { id: string };
    const regenerated = await browser.fetch('/regenerate?key=user');
    const body = (await regenerated.json()) as { before: string; after: string; value: string };
    expect(body.before).toBe(oldId);
    expect(body.after).not.toBe(oldId);
    expect(body.value).toBe('ann');
    expect(regenerated.headers.getSetCookie()[0]).toContain(`sid=${body.after}`);
    expect(await browser.fetch('/get?key=user').then((r) => r.json())).toMatchObject({
      id: body.after,
      value: 'ann',
    });
    // Whoever still holds the old id gets a new, empty session.
    const stale = await fetch(`${url}/get?key=user`, { headers: { cookie: `sid=${oldId}` } });
    expect(await stale.json()).toMatchObject({ isNew: true, value: null });
  });

  it('regenerate({ keep: false }) starts empty under a new id', async () => {
    const { browser, manager } = await start();
    await browser.fetch('/set?key=user&value=ann');
    const body = (await (await browser.fetch('/regenerate?key=user&keep=0')).json()) as { value: unknown };
    expect(body.value).toBeNull();
    expect(await manager.count()).toBe(0);
  });

  it('destroy expires the cookie and the id; a start after it in the same request is genuinely new', async () => {
    const { browser, url, manager } = await start();
    const { id } = (await (await browser.fetch('/set?key=user&value=ann')).json()) as { id: string };

    const destroyed = await browser.fetch('/destroy');
    const attrs = parseSetCookie(destroyed.headers.getSetCookie()[0] as string);
    expect(attrs.cookie).toBe('sid=');
    expect(attrs['max-age']).toBe('0');
    expect(await browser.cookie('sid')).toBeUndefined();
    expect(await manager.provider.read(id)).toBeNull();

    const { id: id2 } = (await (await browser.fetch('/set?key=user&value=bob')).json()) as { id: string };
    const restarted = await fetch(`${url}/restart`, { headers: { cookie: `sid=${id2}` } });
    const body = (await restarted.json()) as { before: string; after: string };
    expect(body.before).toBe(id2);
    expect(body.after).not.toBe(id2);
    expect(restarted.headers.getSetCookie()[0]).toContain(`sid=${body.after}`);
    expect(await manager.provider.read(id2)).toBeNull();
  });

  it('kills a session at the idle timeout, slides it when used, and re-sends the cookie when it slid', async () => {
    const { browser, clock } = await start();
    const { id } = (await (await browser.fetch('/set?value=1')).json()) as { id: string };

    clock.advance(IDLE / 20); // under the touch fraction: no write, no cookie
    const early = await browser.fetch('/get');
    expect(early.headers.getSetCookie()).toEqual([]);

    clock.advance(IDLE / 2); // over it: a touch slides the deadline and the cookie gets a new Max-Age
    const due = await browser.fetch('/get');
    expect(due.headers.getSetCookie()[0]).toContain(`sid=${id}`);

    clock.advance(IDLE * 0.9); // past the original deadline, within the slid one
    expect(await browser.fetch('/get').then((r) => r.json())).toMatchObject({ id, isNew: false });

    clock.advance(IDLE + 1);
    expect(await browser.fetch('/get').then((r) => r.json())).toMatchObject({ isNew: true, value: null });
  });

  it('kills a session at the absolute timeout however often it is used', async () => {
    const { browser, clock } = await start({ idleTimeout: '1h', absoluteTimeout: '3h' });
    const { id } = (await (await browser.fetch('/set?value=1')).json()) as { id: string };
    for (let i = 0; i < 5; i++) {
      clock.advance(30 * 60_000);
      expect(await browser.fetch('/get').then((r) => r.json())).toMatchObject({ id });
    }
    clock.advance(31 * 60_000);
    expect(await browser.fetch('/get').then((r) => r.json())).toMatchObject({ isNew: true });
  });

  it('touch() slides the deadline and re-sends the cookie with the new Max-Age', async () => {
    const { browser, clock } = await start({ idleTimeout: '10m', absoluteTimeout: '15m' });
    await browser.fetch('/set?value=1');
    clock.advance(60_000);
    const touched = await browser.fetch('/touch');
    expect(parseSetCookie(touched.headers.getSetCookie()[0] as string)['max-age']).toBe('600');
    // Near the absolute deadline the cookie's Max-Age follows it, not the idle timeout.
    clock.advance(9 * 60_000);
    const late = await browser.fetch('/touch');
    expect(parseSetCookie(late.headers.getSetCookie()[0] as string)['max-age']).toBe('300');
  });

  it('keeps both changes when a held request commits after a concurrent one changed another key', async () => {
    // The requests truly overlap: A read its snapshot before B committed, and commits after it.
    manager = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } });
    expect(await overlappingWrites(manager)).toEqual({ a: 'A', b: 'B' });
  });

  it('creates a session on incr and counts atomically', async () => {
    const { browser } = await start();
    const first = await browser.fetch('/incr?key=n');
    expect(await first.json()).toMatchObject({ value: 1 });
    expect(first.headers.getSetCookie()).toHaveLength(1);
    const values = await Promise.all(
      Array.from({ length: 20 }, () => browser.fetch('/incr?key=n').then((r) => r.json())),
    );
    expect(values.map((v) => (v as { value: number }).value).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
  });

  it('commits before flushHeaders and merges with Set-Cookie passed to writeHead (SSE)', async () => {
    const { browser } = await start();
    const flushed = await browser.fetch('/flush?key=f');
    expect(await flushed.text()).toBe('ok');
    expect(flushed.headers.getSetCookie()).toHaveLength(1);
    expect(await browser.fetch('/get?key=f').then((r) => r.json())).toMatchObject({ value: 'flushed' });

    const fresh = new Browser(browser.base);
    const sse = await fresh.fetch('/sse?key=s');
    expect(await sse.text()).toBe('data: one\n\ndata: two\n\n');
    const lines = sse.headers.getSetCookie();
    expect(lines.some((l) => l.startsWith('other=1'))).toBe(true);
    expect(lines.some((l) => l.startsWith('sid='))).toBe(true);
    expect(sse.headers.get('vary')).toBe('Accept-Encoding, Cookie');
    expect(await fresh.fetch('/get?key=s').then((r) => r.json())).toMatchObject({ value: 'sse' });
  });

  it('commits changes made after the headers went out, unless the new id could never reach the client', async () => {
    const { browser, manager } = await start();
    const late = await new Browser(browser.base).fetch('/late?key=l');
    expect(await late.text()).toBe('ok');
    expect(late.headers.getSetCookie()).toEqual([]);
    expect(await manager.count()).toBe(0);

    await browser.fetch('/set?key=user&value=ann');
    await (await browser.fetch('/late?key=l')).text();
    expect(await browser.fetch('/get?key=l').then((r) => r.json())).toMatchObject({ value: 'late' });
  });

  it('slides the idle deadline only past the touch fraction, counted from the last slide', async () => {
    const { browser, clock, manager } = await start();
    const { id } = (await (await browser.fetch('/set?value=1')).json()) as { id: string };
    const deadline = async () => (await manager.provider.read(id))?.idleExpiresAt;
    const created = clock.now();
    clock.advance(IDLE * TOUCH_FRACTION); // exactly the fraction: not yet
    expect((await browser.fetch('/get')).headers.getSetCookie()).toEqual([]);
    expect(await deadline()).toBe(created + IDLE);
    clock.advance(1); // past it: slid, and the cookie re-sent with the whole idle timeout
    const slid = await browser.fetch('/get');
    expect(parseSetCookie(slid.headers.getSetCookie()[0] as string)['max-age']).toBe(String(IDLE / 1000));
    expect(await deadline()).toBe(clock.now() + IDLE);
    // A write slides it whatever the fraction, and re-sends no cookie unless the slide was due.
    clock.advance(1000);
    expect((await browser.fetch('/set?value=2')).headers.getSetCookie()).toEqual([]);
    const wroteAt = clock.now();
    expect(await deadline()).toBe(wroteAt + IDLE);
    clock.advance(IDLE * TOUCH_FRACTION); // counted from that last slide, not from the creation
    expect((await browser.fetch('/get')).headers.getSetCookie()).toEqual([]);
    expect(await deadline()).toBe(wroteAt + IDLE);
  });

  it('stores a session created after the headers went out when the URL transport can still carry its id', async () => {
    manager = createSessionManager({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      transports: ['url', 'cookie'],
    });
    const m = manager;
    server = await listen(
      withSession(m, (req, res, session) => {
        if (req.url?.startsWith('/late')) {
          res.flushHeaders();
          session.set('k', 'late');
          res.end(session.url('/next'));
          return;
        }
        res.end(JSON.stringify({ id: session.id, value: session.get('k') ?? null }));
      }),
    );
    const link = await (await fetch(`${server.url}/late`)).text();
    const id = new URL(link, server.url).searchParams.get('sid') as string;
    const read = await fetch(`${server.url}/get?sid=${id}`);
    expect(await read.json()).toEqual({ id, value: 'late' });
  });

  it('regenerate before anything is stored only changes the id; keep: false also empties the view', async () => {
    manager = createSessionManager({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } });
    const m = manager;
    server = await listen(
      withSession(m, async (req, res, session) => {
        session.set('k', 'v');
        const before = session.id;
        await session.regenerate({ keep: !req.url?.includes('keep=0') });
        res.end(
          JSON.stringify({
            changed: before !== session.id,
            isNew: session.isNew,
            value: session.get('k') ?? null,
            id: session.id,
          }),
        );
      }),
    );
    // The view is kept (keep) or emptied (keep: false); nothing was stored under the first id.
    const kept = (await (await fetch(`${server.url}/`)).json()) as { id: string };
    expect(kept).toMatchObject({ changed: true, isNew: true, value: 'v' });
    expect(await m.count()).toBe(1);
    expect(decodeValue((await m.provider.read(kept.id))?.values.get('k') as Uint8Array)).toBe('v');
    const emptied = (await (await fetch(`${server.url}/?keep=0`)).json()) as { id: string };
    expect(emptied).toMatchObject({ changed: true, isNew: true, value: null });
    expect(await m.provider.read(emptied.id)).toBeNull();
  });

  it('regenerate carries the request’s view into the new id when the old session vanished meanwhile', async () => {
    const { browser, manager: m } = await start();
    const { id } = (await (await browser.fetch('/set?key=user&value=ann')).json()) as { id: string };
    server?.server.removeAllListeners('request');
    server?.server.on(
      'request',
      withSession(m, async (_req, res, session) => {
        await m.provider.destroy(session.id); // a concurrent logout, between start and regenerate
        await session.regenerate();
        res.end(JSON.stringify({ id: session.id, user: session.get('user') ?? null }));
      }),
    );
    const body = (await (await browser.fetch('/')).json()) as { id: string; user: string };
    expect(body.id).not.toBe(id);
    expect(body.user).toBe('ann');
    expect(decodeValue((await m.provider.read(body.id))?.values.get('user') as Uint8Array)).toBe('ann');
    expect(await m.provider.read(id)).toBeNull();
  });

  it('after destroy, url() and rewriteLinks() leave links alone and save() resolves', async () => {
    manager = createSessionManager({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      transports: ['url'],
    });
    const m = manager;
    server = await listen(
      withSession(m, async (_req, res, session) => {
        session.set('k', 'v');
        const before = session.url('/a');
        await session.destroy();
        await session.save();
        res.end(
          JSON.stringify({
            before,
            after: session.url('/a'),
            html: m.rewriteLinks('<a href="/a">', session),
          }),
        );
      }),
    );
    const body = (await (await fetch(`${server.url}/`)).json()) as {
      before: string;
      after: string;
      html: string;
    };
    expect(body.before).toMatch(/^\/a\?sid=/);
    expect(body.after).toBe('/a');
    expect(body.html).toBe('<a href="/a">');
    expect(await m.count()).toBe(0);
  });

  it('answers HEAD with the cookie and no body', async () => {
    const { browser } = await start();
    const head = await browser.fetch('/set?value=1', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.getSetCookie()).toHaveLength(1);
    expect(await head.text()).toBe('');
  });
});
