import { describe, expect, it } from 'vitest';
import { ShardSessionStore } from '../../src/express-session.js';
import {
  ClosedError,
  createMemoryProvider,
  InvalidArgumentError,
  InvalidOptionError,
  isValidSid,
  SessionTooLargeError,
} from '../../src/index.js';
import { Clock, overriding } from '../support/session-helpers.js';
import { closedAfterEach, StoreCalls, sessionData } from '../support/store-calls.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const opened = closedAfterEach();

/** A store on a 'memory' provider the test can look into, both on one controlled clock, no timers. */
function storeOnClock(clock: Clock, options: ConstructorParameters<typeof ShardSessionStore>[0] = {}) {
  const provider = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
  const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0, ...options } as never);
  opened.push(store);
  return { store, provider, calls: new StoreCalls(store) };
}

/** A cookie with a fixed `expires` (`maxAge` measured from the clock's now, not Date.now). */
function expiringAt(fields: Record<string, unknown>, expires: number): object {
  return {
    ...fields,
    cookie: { expires: new Date(expires), originalMaxAge: null, path: '/', httpOnly: true },
  };
}

describe('ShardSessionStore: ids', () => {
  it('keeps express-session ids out of the provider: each maps to a distinct, valid provider id', async () => {
    const clock = new Clock();
    const { calls } = storeOnClock(clock);
    const ids = ['a', 'A', 'a ', '../../etc', '__proto__', 'é', 'x'.repeat(1024)];
    for (const id of ids) await calls.set(id, expiringAt({ id }, clock.time + HOUR));
    for (const id of ids) expect(await calls.get(id)).toMatchObject({ id });
    expect((await calls.all().then(Object.keys)).sort()).toEqual([...ids].sort());
  });

  it('answers nothing for what is not an id, and refuses to store under one', async () => {
    const { store, calls } = storeOnClock(new Clock());
    expect(await calls.get('x'.repeat(1025))).toBeUndefined();
    expect(await calls.get('' as string)).toBeUndefined();
    await expect(calls.set('x'.repeat(1025), sessionData({}))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(calls.set(42 as never, sessionData({}))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(calls.set('ok', null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => store.destroy(undefined as never, () => undefined)).not.toThrow();
  });

  it('maps ids with a keyed hash: the same hashKey finds the same sessions, another key or prefix does not', async () => {
    const clock = new Clock();
    const provider = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    opened.push(provider);
    const make = (options: object) =>
      new StoreCalls(new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0, ...options }));
    const hashKey = 'a secret of at least sixteen bytes';
    await make({ hashKey }).set('shared', expiringAt({ user: 'ann' }, clock.time + HOUR));
    expect(await make({ hashKey }).get('shared')).toMatchObject({ user: 'ann' });
    expect(await make({ hashKey: `${hashKey}!` }).get('shared')).toBeUndefined();
    expect(await make({ hashKey, prefix: 'other:' }).get('shared')).toBeUndefined();
    expect(await make({}).get('shared')).toBeUndefined();
  });

  it('uses 43-character canonical provider ids', async () => {
    const clock = new Clock();
    const seen: string[] = [];
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    const spy = overriding(base, {
      read: (sid) => {
        seen.push(sid);
        return base.read(sid);
      },
    });
    const store = new ShardSessionStore({ provider: spy, now: clock.now, pruneInterval: 0 });
    opened.push(store);
    for (let i = 0; i < 200; i++) await new StoreCalls(store).get(`id-${i}`);
    expect(seen).toHaveLength(200);
    expect(seen.every(isValidSid)).toBe(true);
    expect(new Set(seen).size).toBe(200);
  });
});

describe('ShardSessionStore: whole-object set', () => {
  it('is atomic: reads racing writes see one whole version, its fields and its cookie together', async () => {
    const store = new ShardSessionStore({
      provider: 'sharded',
      providerOptions: { shards: 2 },
      pruneInterval: 0,
    });
    opened.push(store);
    const calls = new StoreCalls(store);
    const version = (v: number) => ({
      v,
      items: Array.from({ length: 50 }, () => v),
      cookie: { path: `/v${v}` },
    });
    await calls.set('a', version(0));
    // Writes and reads of one session, all sent in the same turns: the shard interleaves them.
    const seen = new Set<string>();
    for (let round = 1; round <= 20; round++) {
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        work.push(calls.set('a', version(round * 10 + i)));
        work.push(
          calls.get('a').then((got) => {
            const { v, items, cookie } = got as unknown as {
              v: number;
              items: number[];
              cookie: { path: string };
            };
            const whole = items.every((item) => item === v) && cookie.path === `/v${v}`;
            seen.add(whole ? 'whole' : `mixed ${v}`);
          }),
        );
      }
      await Promise.all(work);
    }
    expect([...seen]).toEqual(['whole']);
    expect(await calls.get('a')).toMatchObject({ v: 209 });
  });
});

describe('ShardSessionStore: expiry', () => {
  it('gives a session without a cookie expiry the ttl, and refuses it after', async () => {
    const clock = new Clock();
    const { calls } = storeOnClock(clock, { ttl: '2h' });
    await calls.set('a', sessionData({ user: 'ann' }, null));
    clock.advance(2 * HOUR - 1);
    expect(await calls.get('a')).toMatchObject({ user: 'ann' });
    clock.advance(1);
    expect(await calls.get('a')).toBeUndefined();
  });

  it('keeps a session whose lifetime grew past the provider deadline it was created with (remember me)', async () => {
    const clock = new Clock();
    const { calls, provider } = storeOnClock(clock);
    await calls.set('a', expiringAt({ user: 'ann' }, clock.time + HOUR));
    clock.advance(10_000);
    await calls.set('a', expiringAt({ user: 'ann', remember: true }, clock.time + 30 * DAY));
    clock.advance(2 * HOUR);
    await provider.gc();
    expect(await calls.get('a')).toMatchObject({ user: 'ann', remember: true });
    clock.advance(30 * DAY);
    expect(await calls.get('a')).toBeUndefined();
  });

  it('grows the provider deadline on touch too, without rewriting the data', async () => {
    const clock = new Clock();
    const { calls, provider } = storeOnClock(clock);
    await calls.set('a', expiringAt({ user: 'ann' }, clock.time + HOUR));
    await calls.touch('a', expiringAt({ user: 'not written' }, clock.time + 7 * DAY));
    clock.advance(2 * DAY);
    await provider.gc();
    expect(await calls.get('a')).toMatchObject({ user: 'ann' });
  });

  it('skips the write of a touch that follows a read and moves the expiry by a tenth of the lifetime or less', async () => {
    const clock = new Clock();
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    let commits = 0;
    const provider = overriding(base, {
      commit: (sid, delta) => {
        commits++;
        return base.commit(sid, delta);
      },
    });
    const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0 });
    opened.push(store);
    const calls = new StoreCalls(store);
    await calls.set('a', expiringAt({ n: 1 }, clock.time + HOUR));
    const touchAfter = async (ms: number) => {
      clock.advance(ms);
      await calls.get('a'); // express-session reads before it touches, in the same request
      const before = commits;
      await calls.touch('a', expiringAt({ n: 1 }, clock.time + HOUR));
      return commits - before;
    };
    expect(await touchAfter(6 * 60_000)).toBe(0); // 6 minutes of an hour: the stored expiry stays
    expect(await touchAfter(60_000)).toBe(1); // 7 minutes since the last write: written
    const before = commits;
    await calls.touch('a', expiringAt({ n: 1 }, clock.time + HOUR)); // no read before it: always written
    expect(commits - before).toBe(1);
    // The session ends by the last written expiry at the earliest: never before 90% of its lifetime.
    clock.advance(HOUR - 6 * 60_000);
    expect(await calls.get('a')).toMatchObject({ n: 1 });
  });

  it('always writes a touch that shortens the expiry or changes the cookie, however little the expiry moved', async () => {
    const clock = new Clock();
    const { calls } = storeOnClock(clock);
    const cookie = (expires: number, fields: Record<string, unknown>) => ({
      n: 1,
      cookie: { expires: new Date(expires), path: '/', ...fields },
    });
    await calls.set('a', cookie(clock.time + 30 * DAY, { originalMaxAge: 30 * DAY }));
    // "Remember me" turned off: the lifetime shrinks from 30 days to 3 s (a move backwards, not a slide).
    await calls.get('a');
    await calls.touch('a', cookie(clock.time + 3000, { originalMaxAge: 3000 }));
    expect(await calls.get('a')).toMatchObject({ cookie: { originalMaxAge: 3000 } });
    // Only an attribute changes, the expiry stays where it is.
    await calls.touch('a', cookie(clock.time + 3000, { originalMaxAge: 3000, sameSite: 'strict' }));
    expect(await calls.get('a')).toMatchObject({ cookie: { sameSite: 'strict' } });
    clock.advance(3000);
    expect(await calls.get('a')).toBeUndefined();
  });

  it('never brings back an expired session by a touch, with or without a read before it', async () => {
    const clock = new Clock();
    const { calls } = storeOnClock(clock);
    for (const readFirst of [false, true]) {
      await calls.set('a', expiringAt({ n: 1 }, clock.time + 300));
      clock.advance(600); // within the provider's slack: it still holds the record
      if (readFirst) expect(await calls.get('a')).toBeUndefined();
      await calls.touch('a', expiringAt({ n: 1 }, clock.time + 60_000));
      expect(await calls.get('a'), `read first: ${readFirst}`).toBeUndefined();
    }
  });

  it('ends a session whose lifetime shrank at its new expiry, though the provider would keep it longer', async () => {
    const clock = new Clock();
    const { calls } = storeOnClock(clock);
    await calls.set('a', expiringAt({ n: 1 }, clock.time + 30 * DAY));
    await calls.set('a', expiringAt({ n: 2 }, clock.time + HOUR));
    clock.advance(HOUR);
    expect(await calls.get('a')).toBeUndefined();
    expect(await calls.all()).toEqual({});
    expect(await calls.length()).toBe(0);
  });

  it('destroys a session set with an expiry already past', async () => {
    const clock = new Clock();
    const { calls } = storeOnClock(clock);
    await calls.set('a', expiringAt({ n: 1 }, clock.time + HOUR));
    await calls.set('a', expiringAt({ n: 2 }, clock.time - 1));
    clock.advance(-1000); // even with the clock set back, it is gone
    expect(await calls.get('a')).toBeUndefined();
  });
});

describe('ShardSessionStore: the index behind all/ids/length/clear', () => {
  it('lists what it holds by express-session id, and prunes the sessions the provider dropped', async () => {
    const clock = new Clock();
    const { store, calls, provider } = storeOnClock(clock);
    for (let i = 0; i < 50; i++)
      await calls.set(`s${i}`, expiringAt({ i }, clock.time + (i < 30 ? HOUR : DAY)));
    const ids = await new Promise<string[]>((resolve, reject) =>
      store.ids((error, value) => (error ? reject(error) : resolve(value ?? []))),
    );
    expect(ids).toHaveLength(50);
    expect(ids).toContain('s7');

    clock.advance(2 * HOUR);
    await provider.gc();
    expect(await store.prune()).toBe(30);
    expect(await store.prune()).toBe(0);
    expect(await calls.length()).toBe(20);
  });

  it('refuses a new session when its index bucket is full, storing nothing (every stored session is listed)', async () => {
    const clock = new Clock();
    const small = new ShardSessionStore({
      provider: 'memory',
      providerOptions: { maxKeys: 4, gcIntervalMs: 0 },
      now: clock.now,
      pruneInterval: 0,
    });
    opened.push(small);
    const calls = new StoreCalls(small);
    let stored = 0;
    let refused: { id: string; error: unknown } | undefined;
    // 4,096 buckets of 4 entries: some bucket fills long before 16,385 sessions (near 1,500: birthdays).
    for (let i = 0; i <= 4096 * 4 && refused === undefined; i++) {
      await calls.set(`s${i}`, expiringAt({ i }, clock.time + HOUR)).then(
        () => stored++,
        (error: unknown) => (refused = { id: `s${i}`, error }),
      );
    }
    expect(refused?.error).toBeInstanceOf(SessionTooLargeError);
    expect(await calls.get(refused?.id as string)).toBeUndefined();
    expect(await calls.length()).toBe(stored);
  });
});

describe('ShardSessionStore: errors and options', () => {
  it('hands every failure to the callback, never throwing, and without a callback emits it', async () => {
    const { store, calls } = storeOnClock(new Clock());
    await store.close();
    await expect(calls.get('a')).rejects.toBeInstanceOf(ClosedError);
    await expect(calls.set('a', sessionData({}))).rejects.toBeInstanceOf(ClosedError);
    await expect(calls.touch('a', sessionData({}))).rejects.toBeInstanceOf(ClosedError);
    await expect(calls.destroy('a')).rejects.toBeInstanceOf(ClosedError);
    await expect(calls.all()).rejects.toBeInstanceOf(ClosedError);
    await expect(calls.length()).rejects.toBeInstanceOf(ClosedError);
    await expect(calls.clear()).rejects.toBeInstanceOf(ClosedError);
    const emitted = new Promise((resolve) => store.once('error', resolve));
    store.set('a', sessionData({}) as never);
    expect(await emitted).toBeInstanceOf(ClosedError);
  });

  it('refuses a value it cannot store through the callback', async () => {
    const { calls } = storeOnClock(new Clock());
    await expect(calls.set('a', sessionData({ f: () => 1 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await calls.get('a')).toBeUndefined();
  });

  it('types providerOptions by provider name, as createSessionManager does', () => {
    // @ts-expect-error `shards` is an option of 'sharded', not of 'memory'
    expect(() => new ShardSessionStore({ provider: 'memory', providerOptions: { shards: 2 } })).toThrow(
      InvalidOptionError,
    );
    // @ts-expect-error a typo of `ttl`
    expect(() => new ShardSessionStore({ tll: '1d' })).toThrow(InvalidOptionError);
  });

  it('refuses bad options by name at construction', () => {
    const make = (options: object) => () => new ShardSessionStore(options as never);
    expect(make({ tll: '1d' })).toThrow(/unknown option 'tll'/);
    expect(make({ ttl: -5 })).toThrow(InvalidOptionError);
    expect(make({ ttl: '1 day' })).toThrow(/ttl/);
    expect(make({ prefix: 5 })).toThrow(/prefix/);
    expect(make({ hashKey: 'short' })).toThrow(/hashKey/);
    expect(make({ pruneInterval: 'soon' })).toThrow(/pruneInterval/);
    expect(make({ provider: 'memory', providerOptions: { shards: 2 } })).toThrow(/unknown option 'shards'/);
    expect(make({ provider: 'nope' })).toThrow(/unknown provider/);
  });
});
