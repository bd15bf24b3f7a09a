import { describe, expect, it, vi } from 'vitest';
import { ShardSessionStore } from '../../src/express-session.js';
import {
  INDEX_BUCKETS,
  MAX_SESSION_ID_LENGTH,
  StoreKeys,
} from '../../src/http/express-session/store-keys.js';
import { resolveStoreOptions } from '../../src/http/express-session/store-options.js';
import {
  expiryOf,
  liveMeta,
  replaceDelta,
  sessionOf,
  touchDelta,
} from '../../src/http/express-session/stored-session.js';
import {
  ClosedError,
  createMemoryProvider,
  encodeValue,
  InvalidArgumentError,
  InvalidOptionError,
  isValidSid,
  SessionExistsError,
} from '../../src/index.js';
import { Clock, overriding } from '../support/session-helpers.js';
import { closedAfterEach, expiringAt, StoreCalls } from '../support/store-calls.js';

// The express-session store's parts, each against a real 'memory' provider: its options, the id mapping,
// the record layout, the pruner's timer, the retries of `set`, and how a failure nobody waits for is told.

const HOUR = 3_600_000;
const opened = closedAfterEach();

describe('express-session store options', () => {
  it('defaults: a day of ttl, a prune step every ttl/256 held between 1 s and 1 min, room for the index', async () => {
    const resolved = resolveStoreOptions({ provider: 'memory', providerOptions: { gcIntervalMs: 0 } });
    opened.push(resolved.provider);
    expect(resolved.ttlMs).toBe(86_400_000);
    expect(resolved.pruneIntervalMs).toBe(60_000); // a day / 256 = 337 s, held to a minute
    const short = resolveStoreOptions({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      ttl: '1m',
    });
    opened.push(short.provider);
    expect(short.pruneIntervalMs).toBe(1000); // 60 s / 256 = 234 ms, held to a second
    const middle = resolveStoreOptions({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      ttl: 256 * 5000,
    });
    opened.push(middle.provider);
    expect(middle.pruneIntervalMs).toBe(5000);
    const off = resolveStoreOptions({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      pruneInterval: 0,
    });
    opened.push(off.provider);
    expect(off.pruneIntervalMs).toBe(0);
    const given = resolveStoreOptions({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      pruneInterval: '2s',
    });
    opened.push(given.provider);
    expect(given.pruneIntervalMs).toBe(2000);
    expect(given.now()).toBeGreaterThan(Date.UTC(2025, 0, 1));
    // A bucket of the index holds up to 65,536 sessions: far above the provider's default of 1,000 keys.
    const { provider, keys } = resolved;
    const bucket = keys.bucket(0);
    const set = Array.from({ length: 2000 }, (_, i) => [`k${i}`, new Uint8Array(0)] as [string, Uint8Array]);
    await provider.init(bucket, { idleTimeoutMs: HOUR, absoluteTimeoutMs: HOUR }, { set });
    expect((await provider.read(bucket))?.values.size).toBe(2000);
  });

  it('refuses options that are not an object, a now that is not a function, and bad hash keys', () => {
    for (const bad of [null, 'x', 5]) {
      expect(() => new ShardSessionStore(bad as never)).toThrow(
        new InvalidOptionError('ShardSessionStore: options must be an object'),
      );
    }
    expect(() => new ShardSessionStore({ now: 5 } as never)).toThrow(
      new InvalidOptionError('now must be a function'),
    );
    expect(() => new ShardSessionStore({ prefix: 5 } as never)).toThrow(
      new InvalidOptionError('prefix must be a string'),
    );
    const message = 'hashKey must be a string or Uint8Array of at least 16 bytes';
    for (const bad of ['x'.repeat(15), new Uint8Array(15), 1234567890123456, ['x'.repeat(16)], null]) {
      expect(() => new ShardSessionStore({ provider: 'memory', hashKey: bad } as never)).toThrow(
        new InvalidOptionError(message),
      );
    }
    for (const good of ['x'.repeat(16), new Uint8Array(16), Buffer.alloc(32, 1)]) {
      const store = new ShardSessionStore({ provider: 'memory', hashKey: good, pruneInterval: 0 });
      opened.push(store);
    }
  });

  it('uses the clock it is given for the provider it builds', async () => {
    const clock = new Clock();
    const store = new ShardSessionStore({ provider: 'memory', now: clock.now, pruneInterval: 0, ttl: '1h' });
    opened.push(store);
    const calls = new StoreCalls(store);
    await calls.set('a', { n: 1 });
    clock.advance(2 * HOUR);
    expect(await calls.get('a')).toBeUndefined();
  });
});

describe('express-session ids in the provider', () => {
  it('maps an id to a canonical provider id and a bucket from the digest, under a fixed key', () => {
    const keys = new StoreKeys('', Buffer.alloc(32, 7));
    const again = new StoreKeys('', Buffer.alloc(32, 7));
    const key = keys.session('abc');
    expect(isValidSid(key.sid)).toBe(true);
    expect(again.session('abc')).toEqual(key);
    expect(key.bucket).toBe(Buffer.from(key.sid, 'base64url').readUInt16BE(0) % 4096);
    expect(INDEX_BUCKETS).toBe(4096);
    const buckets = new Set(Array.from({ length: 20_000 }, (_, i) => keys.session(`s${i}`).bucket));
    expect(buckets.size).toBeGreaterThan(4000); // the whole range is used, not the first 256 values only
    expect(Math.max(...buckets)).toBe(4095);
    expect(keys.bucket(0)).not.toBe(keys.bucket(1));
    expect(isValidSid(keys.bucket(4095))).toBe(true);
    // Kind-tagged: a session id "0" and the bucket 0 are different records.
    expect(keys.bucket(0)).not.toBe(keys.session('0').sid);
    // A random key per store when none is given.
    expect(new StoreKeys('').session('abc').sid).not.toBe(new StoreKeys('').session('abc').sid);
  });

  it('never changes the mapping: under a fixed hashKey, a restarted process finds the sessions it stored', async () => {
    // Golden values: a change of the tags, the prefix's layout or the default prefix orphans every session a
    // durable, Redis or PostgreSQL provider holds for an express-session app.
    const keys = new StoreKeys('', Buffer.alloc(32, 7));
    // (The bucket was 130 of 256 before the index had 4,096 buckets, a change made before any release.)
    expect(keys.session('abc')).toEqual({ sid: 'x4KGQOYEc_lvwHemi6iqOXkXIzSvwjsw0Ghs3_qLuuo', bucket: 1922 });
    expect(keys.bucket(0)).toBe('sBy8xmkcgKkGisAZyPxYurxMneag2qV7M5G1YNZHjsQ');
    const resolved = resolveStoreOptions({
      provider: 'memory',
      providerOptions: { gcIntervalMs: 0 },
      hashKey: Buffer.alloc(32, 7),
    });
    opened.push(resolved.provider);
    expect(resolved.keys.session('abc').sid).toBe('x4KGQOYEc_lvwHemi6iqOXkXIzSvwjsw0Ghs3_qLuuo');
  });

  it('keeps prefixes apart, even when prefix and id could be cut differently', () => {
    const key = Buffer.alloc(32, 1);
    expect(new StoreKeys('a', key).session('b:c').sid).not.toBe(new StoreKeys('a:b', key).session('c').sid);
    expect(new StoreKeys('', key).session('x').sid).not.toBe(new StoreKeys('0:', key).session('x').sid);
  });

  it('takes ids of 1 to 1,024 characters', () => {
    const keys = new StoreKeys('');
    expect(MAX_SESSION_ID_LENGTH).toBe(1024);
    expect(isValidSid(keys.session('x'.repeat(1024)).sid)).toBe(true);
    const message = 'a session id must be a non-empty string of at most 1024 characters';
    for (const bad of ['', 'x'.repeat(1025), 5, null, undefined]) {
      expect(() => keys.session(bad)).toThrow(new InvalidArgumentError(message));
    }
  });
});

describe('the record of an express-session session', () => {
  it('takes the expiry from the cookie (a Date, a JSON string or a number), else ttl from now', () => {
    const at = Date.UTC(2030, 0, 1);
    expect(expiryOf(expiringAt({}, new Date(at)), 0, 5)).toBe(at);
    expect(expiryOf(expiringAt({}, new Date(at).toISOString()), 0, 5)).toBe(at);
    expect(expiryOf(expiringAt({}, at), 0, 5)).toBe(at);
    expect(expiryOf(expiringAt({}, 'not a date'), 100, 5)).toBe(105);
    expect(expiryOf(expiringAt({}, null as never), 100, 5)).toBe(105);
    expect(expiryOf(expiringAt({}, {} as never), 100, 5)).toBe(105);
    expect(expiryOf({ cookie: null }, 100, 5)).toBe(105);
    expect(expiryOf({}, 100, 5)).toBe(105);
  });

  it('stores the data without the cookie, and the cookie in JSON form without undefined fields', () => {
    const cookie = {
      expires: new Date(1000),
      path: '/',
      domain: undefined,
      toJSON() {
        return { expires: this.expires, path: this.path, domain: this.domain };
      },
    };
    const delta = replaceDelta('id', { n: 1, cookie }, 1000);
    const snapshot = {
      createdAt: 0,
      idleExpiresAt: 2000,
      absoluteExpiresAt: 2000,
      expiresAt: 2000,
      values: new Map(delta.set),
    };
    const meta = liveMeta(snapshot, 'id', 999);
    expect(meta).toEqual({ id: 'id', expiresAt: 1000, cookie: { expires: new Date(1000), path: '/' } });
    expect(Object.keys(meta?.cookie as object)).toEqual(['expires', 'path']);
    expect(sessionOf(snapshot, meta as never)).toEqual({
      n: 1,
      cookie: { expires: new Date(1000), path: '/' },
    });
    expect(touchDelta('id', { cookie: { path: '/x' } }, 5).set?.map(([key]) => key)).toEqual(['meta']);
    // A cookie without toJSON is stored as it is; a session without one gets none back.
    const plain = new Map(replaceDelta('id', { n: 2, cookie: { path: '/p' } }, 9).set);
    const plainSnapshot = { ...snapshot, values: plain };
    expect(liveMeta(plainSnapshot, 'id', 0)?.cookie).toEqual({ path: '/p' });
    const bare = { ...snapshot, values: new Map(replaceDelta('id', { n: 3 }, 9).set) };
    const read = sessionOf(bare, liveMeta(bare, 'id', 0) as never) as object;
    expect(Object.keys(read)).toEqual(['n']); // no `cookie: undefined` added
    // A cookie whose JSON form is not an object is stored as that value.
    const odd = new Map(replaceDelta('id', { cookie: { toJSON: () => 'c' } }, 9).set);
    expect(liveMeta({ ...snapshot, values: odd }, 'id', 0)?.cookie).toBe('c');
    const none = new Map(replaceDelta('id', { cookie: { toJSON: () => null } }, 9).set);
    expect(liveMeta({ ...snapshot, values: none }, 'id', 0)?.cookie).toBeNull();
  });

  it('reads a record as live only for its own id, before its expiry, and only in this store’s layout', () => {
    const values = (entries: [string, unknown][]) => ({
      createdAt: 0,
      idleExpiresAt: 9e12,
      absoluteExpiresAt: 9e12,
      expiresAt: 9e12,
      values: new Map(entries.map(([k, v]) => [k, encodeValue(v)])),
    });
    const good = values([
      ['data', { n: 1 }],
      ['meta', ['id', 1000, null]],
    ]);
    expect(liveMeta(good, 'id', 999)).toEqual({ id: 'id', expiresAt: 1000, cookie: null });
    expect(liveMeta(good, undefined, 999)?.id).toBe('id');
    expect(liveMeta(good, 'other', 999)).toBeUndefined();
    expect(liveMeta(good, 'id', 1000)).toBeUndefined();
    for (const meta of [undefined, 'meta', [], [1, 1000], ['id', '1000'], { 0: 'id', 1: 1000 }]) {
      const record = values(meta === undefined ? [] : [['meta', meta]]);
      expect(liveMeta(record, undefined, 0), JSON.stringify(meta)).toBeUndefined();
    }
    const meta = { id: 'id', expiresAt: 1000, cookie: undefined };
    for (const data of [undefined, null, 'text', 5]) {
      const record = values(data === undefined ? [] : [['data', data]]);
      expect(sessionOf(record, meta), String(data)).toBeUndefined();
    }
    expect(sessionOf(values([['data', []]]), meta)).toEqual([]);
  });
});

describe('the express-session store at work', () => {
  it('prunes 16 buckets per timer tick, going round all 4,096 in 256 steps, one step at a time', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const clock = new Clock();
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    const reads: string[] = [];
    let pruned = 0;
    const provider = overriding(base, {
      read: (sid) => {
        reads.push(sid);
        return base.read(sid);
      },
      // Pruning a bucket ends with the commit of its removals.
      commit: (sid, delta) => base.commit(sid, delta).finally(() => pruned++),
    });
    const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 1000 });
    opened.push(store);
    vi.advanceTimersByTime(999);
    expect(reads).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(reads).toHaveLength(1); // the step's buckets one after the other
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    for (let step = 1; step <= 256; step++) {
      // Turns of the event loop, not vi.waitFor: that advances the fake timers, which would start a step.
      for (let turns = 0; turns < 1000 && pruned < step * 16; turns++) await turn();
      await turn(); // the step's own settling
      expect(pruned).toBe(step * 16); // its 16 buckets, and no further until the next tick
      vi.advanceTimersByTime(1000);
    }
    expect(new Set(reads.slice(0, 4096)).size).toBe(4096);
    expect(reads[4096]).toBe(reads[0]); // round again from the first bucket
  });

  it('prunes nothing while a step is still under way, and goes on after a failed step', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const base = createMemoryProvider({ gcIntervalMs: 0 });
    let release: (() => void) | undefined;
    let reads = 0;
    let fail = false;
    const provider = overriding(base, {
      read: async (sid) => {
        reads++;
        if (fail) throw new Error('unreachable');
        await new Promise<void>((resolve) => (release = resolve));
        return base.read(sid);
      },
    });
    const store = new ShardSessionStore({ provider, pruneInterval: 10 });
    opened.push(store);
    vi.advanceTimersByTime(10);
    expect(reads).toBe(1);
    vi.advanceTimersByTime(50); // five more ticks while the first step waits
    expect(reads).toBe(1);
    fail = true;
    release?.();
    await vi.waitFor(() => {
      vi.advanceTimersByTime(10);
      expect(reads).toBeGreaterThanOrEqual(2);
    });
    await vi.waitFor(() => {
      vi.advanceTimersByTime(10);
      expect(reads).toBeGreaterThanOrEqual(3); // the failed step did not stop the pruner
    });
    await store.close();
    const after = reads;
    vi.advanceTimersByTime(1000);
    expect(reads).toBe(after);
  });

  it('retries a set that raced a concurrent create, and gives up after three attempts', async () => {
    const clock = new Clock();
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    let inits = 0;
    let racing = 2;
    const provider = overriding(base, {
      init: (sid, policy, delta) => {
        inits++;
        // Someone else's create lands between our commit (which found nothing) and our init.
        if (racing-- > 0) return Promise.reject(new SessionExistsError());
        return base.init(sid, policy, delta);
      },
    });
    const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0 });
    opened.push(store);
    const calls = new StoreCalls(store);
    await calls.set('a', expiringAt({ n: 1 }, clock.time + HOUR));
    expect(await calls.get('a')).toMatchObject({ n: 1 });
    racing = 3;
    const before = inits;
    await expect(calls.set('b', expiringAt({ n: 2 }, clock.time + HOUR))).rejects.toBeInstanceOf(
      SessionExistsError,
    );
    expect(inits - before).toBe(3);
    const other = new Error('disk on fire');
    racing = 0;
    const failing = overriding(base, { init: () => Promise.reject(other) });
    const store2 = new ShardSessionStore({ provider: failing, now: clock.now, pruneInterval: 0 });
    await expect(new StoreCalls(store2).set('c', { n: 3 })).rejects.toBe(other);
  });

  it('destroys a session it created when listing it in the index fails', async () => {
    const clock = new Clock();
    const base = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    const created: string[] = [];
    const failure = new Error('index unavailable');
    const provider = overriding(base, {
      init: async (sid, policy, delta) => {
        const meta = await base.init(sid, policy, delta);
        if (delta?.set?.some(([key]) => key === 'meta')) created.push(sid);
        return meta;
      },
      commit: (sid, delta) =>
        delta.set?.some(([key]) => key !== 'meta' && key !== 'data')
          ? Promise.reject(failure)
          : base.commit(sid, delta),
    });
    const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0 });
    opened.push(store);
    await expect(new StoreCalls(store).set('a', expiringAt({ n: 1 }, clock.time + HOUR))).rejects.toBe(
      failure,
    );
    expect(created).toHaveLength(1);
    expect(await base.read(created[0] as string)).toBeNull();
  });

  it('clears every session of every bucket, and only those', async () => {
    const clock = new Clock();
    const provider = createMemoryProvider({ now: clock.now, gcIntervalMs: 0 });
    const store = new ShardSessionStore({ provider, now: clock.now, pruneInterval: 0 });
    opened.push(store);
    const calls = new StoreCalls(store);
    for (let i = 0; i < 600; i++) await calls.set(`s${i}`, expiringAt({ i }, clock.time + HOUR));
    const stored = await provider.count(); // the sessions and the index's buckets
    expect(stored).toBeGreaterThan(600);
    await calls.clear();
    expect(await calls.length()).toBe(0);
    expect(await calls.get('s1')).toBeUndefined();
    expect(await calls.get('s599')).toBeUndefined();
    // The index records stay (empty); no session is left.
    expect(await provider.count()).toBe(stored - 600);
    await calls.set('again', expiringAt({}, clock.time + HOUR));
    expect(await calls.length()).toBe(1);
  });

  it('without a callback: success is silent, a failure goes to "error" listeners or else a process warning', async () => {
    const { store } = closedStore();
    await store.close();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      store.destroy('a');
      await vi.waitFor(() => expect(warnings).toHaveLength(1));
      expect(warnings[0]).toBeInstanceOf(ClosedError);
      const emitted: unknown[] = [];
      store.on('error', (error) => emitted.push(error));
      store.touch('a', { cookie: {} } as never);
      await vi.waitFor(() => expect(emitted).toHaveLength(1));
      expect(warnings).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
    const open = new ShardSessionStore({ provider: 'memory', pruneInterval: 0 });
    opened.push(open);
    const errors: unknown[] = [];
    open.on('error', (error) => errors.push(error));
    open.set('x', { n: 1 } as never);
    open.destroy('x');
    await new Promise((resolve) => setTimeout(resolve, 0));
    await open.prune();
    expect(errors).toEqual([]);
  });

  it('gives a string failure to the warning as it is', async () => {
    const base = createMemoryProvider({ gcIntervalMs: 0 });
    const store = new ShardSessionStore({
      provider: overriding(base, { destroy: () => Promise.reject('plain words') }),
      pruneInterval: 0,
    });
    opened.push(store);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      store.destroy('a');
      await vi.waitFor(() => expect(warnings).toHaveLength(1));
      expect(warnings[0]?.message).toBe('plain words');
      expect(warnings[0]?.name).toBe('SessionStoreWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

function closedStore() {
  const store = new ShardSessionStore({ provider: 'memory', pruneInterval: 0 });
  opened.push(store);
  return { store };
}
