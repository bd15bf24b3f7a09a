import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeValue } from '../src/codec.js';
import {
  createSessionManager,
  generateSid,
  InvalidArgumentError,
  NotANumberError,
  OverloadedError,
  type Session,
  SessionDestroyedError,
  type SessionManager,
  SessionTooLargeError,
  withSession,
} from '../src/index.js';
import { burst } from './support/burst.js';
import { overlappingWrites } from './support/overlap.js';
import { Browser, type Listening, listen, sessionApp } from './support/session-helpers.js';

type Data = { count: number; user: string; tags: string[]; when: Date; big: string };

describe('Session API', () => {
  let manager: SessionManager<Data>;
  let server: Listening;
  let run: (session: Session<Data>) => Promise<unknown>;

  beforeAll(async () => {
    manager = createSessionManager<Data>({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0, maxSessionBytes: 4096 },
      limits: { maxValueBytes: 2048 },
    });
    server = await listen(
      withSession(manager, async (_req, res, session) => {
        try {
          res.end(JSON.stringify({ ok: await run(session) }));
        } catch (error) {
          res.end(JSON.stringify({ error: (error as Error).name }));
        }
      }),
    );
  });

  afterAll(async () => {
    await server.close();
    await manager.close();
  });

  async function call(browser: Browser, body: (session: Session<Data>) => unknown): Promise<unknown> {
    run = async (session) => body(session);
    return browser.fetch('/').then((r) => r.json());
  }

  it('keeps typed values of every structured-clone kind across requests', async () => {
    const browser = new Browser(server.url);
    const when = new Date('2026-11-26T22:00:00Z');
    await call(browser, (s) => {
      s.set('user', 'ann');
      s.set('tags', ['a', 'b']);
      s.set('when', when);
      return s.keys();
    });
    expect(
      await call(browser, (s) => {
        const user: string | undefined = s.get('user');
        return [user, s.get('tags'), s.get('when') instanceof Date, s.get('when')?.getTime(), s.has('count')];
      }),
    ).toEqual({ ok: ['ann', ['a', 'b'], true, when.getTime(), false] });
    await call(browser, (s) => s.delete('tags'));
    expect(await call(browser, (s) => s.keys().sort())).toEqual({ ok: ['user', 'when'] });
  });

  it('refuses a value over maxValueBytes at set(), and reports a session over its limit at save()', async () => {
    const browser = new Browser(server.url);
    expect(await call(browser, (s) => s.set('big', 'x'.repeat(4000)))).toEqual({
      error: 'SessionTooLargeError',
    });
    await call(browser, (s) => s.set('user', 'ann'));
    const result = await call(browser, async (s) => {
      s.set('big', 'x'.repeat(2000));
      s.set('user', 'y'.repeat(2000));
      s.set('tags', ['z'.repeat(1000)]);
      await s.save();
    });
    expect(result).toEqual({ error: SessionTooLargeError.name });
    // On a new session, incr reports the failed creation rather than a vanished session.
    const creation = await call(new Browser(server.url), async (s) => {
      s.set('big', 'x'.repeat(2000));
      s.set('user', 'y'.repeat(2000));
      s.set('tags', ['z'.repeat(1000)]);
      return s.incr('count');
    });
    expect(creation).toEqual({ error: SessionTooLargeError.name });
    // Nothing of the refused delta was written.
    expect(await call(browser, (s) => s.get('user'))).toEqual({ ok: 'ann' });
  });

  it('refuses values that cannot be stored with InvalidArgumentError, and writes nothing of them', async () => {
    const browser = new Browser(server.url);
    await call(browser, (s) => s.set('user', 'ann'));
    const unstorable: unknown[] = [
      () => 1,
      Symbol('x'),
      { nested: () => 1 },
      [Symbol('y')],
      new Map([[1, () => 2]]),
    ];
    for (const value of unstorable) {
      expect(await call(browser, (s) => s.set('user', value as never)), typeof value).toEqual({
        error: InvalidArgumentError.name,
      });
    }
    expect(await call(browser, (s) => s.get('user'))).toEqual({ ok: 'ann' });
    expect(await call(browser, (s) => s.incr('count', Number.NaN))).toEqual({
      error: InvalidArgumentError.name,
    });
  });

  it('rejects incr on a value that is not a number, and writes after destroy', async () => {
    const browser = new Browser(server.url);
    await call(browser, (s) => s.set('user', 'ann'));
    expect(await call(browser, (s) => s.incr('user' as never))).toEqual({ error: NotANumberError.name });
    expect(
      await call(browser, async (s) => {
        await s.destroy();
        return s.get('user') ?? 'gone';
      }),
    ).toEqual({ ok: 'gone' });
    expect(
      await call(browser, async (s) => {
        await s.destroy();
        s.set('user', 'x');
      }),
    ).toEqual({ error: SessionDestroyedError.name });
  });

  it('incr sends pending changes first and continues in a new session if the old one vanished', async () => {
    const browser = new Browser(server.url);
    expect(
      await call(browser, async (s) => {
        s.set('count', 10);
        return s.incr('count', 5);
      }),
    ).toEqual({ ok: 15 });
    const result = (await call(browser, async (s) => {
      const before = s.id;
      await manager.provider.destroy(before); // a concurrent logout
      const n = await s.incr('count');
      return [before !== s.id, n, s.isNew];
    })) as { ok: unknown[] };
    expect(result.ok).toEqual([true, 1, true]);
  });
});

describe('concurrency on the sharded provider', () => {
  let manager: SessionManager;
  let server: Listening;

  beforeAll(async () => {
    manager = createSessionManager({ provider: 'sharded', providerOptions: { shards: 2 } });
    server = await listen(sessionApp(manager));
  });

  afterAll(async () => {
    await server.close();
    await manager.close();
  });

  it('500 concurrent incr on one session give each value from 1 to 500 exactly once', async () => {
    const browser = new Browser(server.url);
    await browser.fetch('/set?key=user&value=ann');
    const cookie = await browser.jar.getCookieString(server.url);
    const values = await Promise.all(
      Array.from({ length: 500 }, () =>
        fetch(`${server.url}/incr?key=count`, { headers: { cookie } })
          .then((r) => r.json())
          .then((body) => (body as { value: number }).value),
      ),
    );
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
  });

  it('keeps both changes when a held request commits after a concurrent one changed another key', async () => {
    // The requests truly overlap: A read its snapshot before B committed, and commits after it. Both go
    // through the shard's ordered channel; only A's changed key may travel.
    for (let round = 0; round < 5; round++) {
      expect(await overlappingWrites(manager)).toEqual({ a: 'A', b: 'B' });
    }
  });

  it('reads its own writes on the next request without save() (the redirect after login)', async () => {
    for (let round = 0; round < 20; round++) {
      const browser = new Browser(server.url);
      await browser.fetch(`/set?key=user&value=u${round}`);
      expect(await browser.fetch('/get?key=user').then((r) => r.json())).toMatchObject({
        value: `u${round}`,
      });
    }
  });
});

describe('the sharded provider under a burst of real HTTP requests', () => {
  let manager: SessionManager;
  let server: Listening;
  const BURST = 12;

  afterEach(async () => {
    await server.close();
    await manager.close();
  });

  async function startWith(maxQueuedOps?: number): Promise<string[]> {
    manager = createSessionManager({
      provider: 'sharded',
      providerOptions: { shards: 1, gcIntervalMs: 0, ...(maxQueuedOps ? { maxQueuedOps } : {}) },
    });
    server = await listen(sessionApp(manager));
    // Stored one at a time and awaited, so that the queue limit is not what this setup tests.
    const cookies: string[] = [];
    for (let i = 0; i < BURST; i++) {
      const sid = generateSid();
      await manager.provider.init(sid, manager.policy, { set: [['user', encodeValue(`u${i}`)]] });
      cookies.push(`sid=${sid}`);
    }
    return cookies;
  }

  it('sends the reads of one poll phase to the shard as ONE frame (the flush runs on setImmediate)', async () => {
    // A flush on queueMicrotask would run between two requests' callbacks: the first read would leave alone
    // and the rest wait for its answer, two frames (or more) where one is due.
    const cookies = await startWith();
    const [before] = await manager.stats();
    const answers = await burst(
      server,
      '/get?key=user',
      cookies.map((cookie) => ({ cookie })),
    );
    expect(answers.map((a) => a.status)).toEqual(cookies.map(() => 200));
    expect(answers.map((a) => JSON.parse(a.body).value)).toEqual(cookies.map((_, i) => `u${i}`));
    const [after] = await manager.stats();
    // The burst's reads in one frame, then the frame of the second stats call.
    expect((after?.batches ?? 0) - (before?.batches ?? 0)).toBe(2);
    expect((after?.ops ?? 0) - (before?.ops ?? 0)).toBeGreaterThanOrEqual(BURST);
  });

  it('answers 503 with Retry-After to the requests past maxQueuedOps, and serves the rest', async () => {
    const cookies = await startWith(4);
    const answers = await burst(
      server,
      '/get?key=user',
      cookies.map((cookie) => ({ cookie })),
    );
    const statuses = answers.map((a) => a.status);
    // The first 4 reads fill the shard's queue; the other 8 are refused at once with OverloadedError.
    expect(statuses).toEqual(cookies.map((_, i) => (i < 4 ? 200 : 503)));
    for (const answer of answers.slice(4)) expect(answer.headers['retry-after']).toBe('1');
    // The queue drains: the same requests are served again.
    const later = await fetch(`${server.url}/get?key=user`, { headers: { cookie: cookies[11] as string } });
    expect(await later.json()).toMatchObject({ value: 'u11' });
  });
});

describe('store failures', () => {
  const overloaded = Object.assign(Object.create(null), {
    init: async () => Promise.reject(new OverloadedError()),
    read: async () => Promise.reject(new OverloadedError()),
    commit: async () => null,
    incr: async () => null,
    rename: async () => null,
    destroy: async () => false,
    gc: async () => 0,
    count: async () => 0,
    stats: async () => [],
    close: async () => undefined,
  });
  let manager: SessionManager;
  let server: Listening;

  afterEach(async () => {
    await server.close();
    await manager.close();
  });

  it('answers 503 with Retry-After on overload through withSession', async () => {
    manager = createSessionManager({ provider: overloaded });
    server = await listen(sessionApp(manager));
    const response = await fetch(`${server.url}/get`, { headers: { cookie: `sid=${'A'.repeat(43)}` } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('reports a failed background commit to onError, never as an unhandled rejection', async () => {
    let reported!: (error: unknown) => void;
    const firstError = new Promise<unknown>((resolve) => {
      reported = resolve;
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      manager = createSessionManager({ provider: overloaded, onError: (e) => reported(e) });
      server = await listen(sessionApp(manager));
      const response = await fetch(`${server.url}/set?value=1`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      // Waits for the report itself (no sleep), with a deadline of its own.
      const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('onError never called')), 2000),
      );
      expect(await Promise.race([firstError, timeout])).toBeInstanceOf(OverloadedError);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
