import session from 'express-session';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShardSessionStore } from '../../src/express-session.js';
import { StoreCalls, sessionData } from '../support/store-calls.js';

// Every behaviour express-session relies on, run against its own MemoryStore (the reference) and against
// ShardSessionStore over each provider: the same calls must give the same answers. Time is express-session's
// own clock (Date), faked, so cookie expiry is driven without waiting.
const START = Date.UTC(2026, 0, 1);

const stores: Array<[string, () => session.Store]> = [
  ['MemoryStore', () => new session.MemoryStore()],
  ["ShardSessionStore 'memory'", () => new ShardSessionStore({ provider: 'memory' })],
  [
    "ShardSessionStore 'sharded'",
    () => new ShardSessionStore({ provider: 'sharded', providerOptions: { shards: 2 } }),
  ],
];

describe.each(stores)('%s', (_name, makeStore) => {
  let store: session.Store;
  let calls: StoreCalls;
  const opened: session.Store[] = [];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(START);
    store = makeStore();
    opened.push(store);
    calls = new StoreCalls(store);
  });
  afterEach(() => vi.useRealTimers());
  afterAll(async () => {
    for (const each of opened) if (each instanceof ShardSessionStore) await each.close();
  });

  it('answers nothing (and no error) for an id it never stored', async () => {
    expect(await calls.get('never-stored')).toBeUndefined();
    expect(await calls.load('never-stored')).toBeUndefined();
  });

  it('gives back what was set, and express-session rebuilds a working cookie from it', async () => {
    await calls.set('a', sessionData({ user: 'ann', visits: 3, tags: ['x', 'y'] }, 60_000));
    const stored = await calls.get('a');
    expect(stored).toMatchObject({ user: 'ann', visits: 3, tags: ['x', 'y'] });
    expect(new Date(stored?.cookie.expires as Date | string).getTime()).toBe(START + 60_000);

    const loaded = await calls.load('a');
    expect(loaded?.cookie.expires).toBeInstanceOf(Date);
    expect(loaded?.cookie.expires?.getTime()).toBe(START + 60_000);
    expect(loaded?.cookie.originalMaxAge).toBe(60_000);
    vi.setSystemTime(START + 10_000);
    expect(loaded?.cookie.maxAge).toBe(50_000);
    expect(loaded?.user).toBe('ann');
  });

  it('replaces the whole object on set: fields left out are gone', async () => {
    await calls.set('a', sessionData({ user: 'ann', cart: [1, 2] }));
    await calls.set('a', sessionData({ user: 'bob' }));
    const stored = await calls.get('a');
    expect(stored).toMatchObject({ user: 'bob' });
    expect(stored).not.toHaveProperty('cart');
  });

  it('destroys a session, and destroying one that is not there is no error', async () => {
    await calls.set('a', sessionData({ user: 'ann' }));
    await calls.destroy('a');
    expect(await calls.get('a')).toBeUndefined();
    await expect(calls.destroy('a')).resolves.toBeUndefined();
  });

  it('answers nothing once the cookie has expired', async () => {
    await calls.set('a', sessionData({ user: 'ann' }, 1000));
    vi.setSystemTime(START + 999);
    expect(await calls.get('a')).toMatchObject({ user: 'ann' });
    vi.setSystemTime(START + 1000);
    expect(await calls.get('a')).toBeUndefined();
  });

  it('touch moves the expiry forward, keeping the data; it never creates a session', async () => {
    await calls.set('a', sessionData({ user: 'ann' }, 1000));
    vi.setSystemTime(START + 800);
    await calls.touch('a', sessionData({ user: 'stale copy' }, 1000));
    vi.setSystemTime(START + 1500);
    const stored = await calls.get('a');
    expect(stored).toMatchObject({ user: 'ann' });
    expect(new Date(stored?.cookie.expires as Date | string).getTime()).toBe(START + 1800);
    vi.setSystemTime(START + 1800);
    expect(await calls.get('a')).toBeUndefined();

    await calls.touch('b', sessionData({ user: 'nobody' }));
    expect(await calls.get('b')).toBeUndefined();
  });

  it('lists, counts and clears the live sessions, leaving out the expired ones', async () => {
    await calls.set('a', sessionData({ n: 1 }, 60_000));
    await calls.set('b', sessionData({ n: 2 }, 60_000));
    await calls.set('short', sessionData({ n: 3 }, 1000));
    vi.setSystemTime(START + 5000);
    const all = await calls.all();
    expect(Object.keys(all).sort()).toEqual(['a', 'b']);
    expect(all.a).toMatchObject({ n: 1 });
    expect(await calls.length()).toBe(2);
    await calls.clear();
    expect(await calls.length()).toBe(0);
    expect(await calls.get('a')).toBeUndefined();
  });
});
