import { expect } from 'vitest';
import { ClosedError, SessionExistsError } from '../../errors.js';
import type { SessionProvider } from '../../providers/provider.js';
import { bytes, expectRejection, LONG, newSid, setting, statsTotal, valuesOf } from '../fixtures.js';
import type { Harness } from '../harness.js';

/** init, read, commit, destroy, count, stats and close: the life of a session and of the provider. */
export function lifecycleCases(h: Harness): void {
  h.test('init stores the initial values and timestamps from the clock; read returns them', async () => {
    const { provider, clock } = await h.shared();
    const sid = newSid();
    const meta = await provider.init(sid, LONG, setting({ user: 'ann', visits: 1 }));
    const now = clock.now();
    expect(meta).toEqual({
      createdAt: now,
      idleExpiresAt: now + LONG.idleTimeoutMs,
      absoluteExpiresAt: now + LONG.absoluteTimeoutMs,
      expiresAt: now + LONG.idleTimeoutMs,
    });
    const snapshot = await provider.read(sid);
    const { values, ...readMeta } = snapshot ?? { values: new Map() };
    expect(readMeta).toEqual(meta);
    expect([...values.keys()].sort()).toEqual(['user', 'visits']);
    expect(await valuesOf(provider, sid)).toEqual({ user: 'ann', visits: 1 });
    // A session with no initial values is empty; the sooner of the two deadlines is when it dies.
    const empty = newSid();
    const shortAbsolute = { idleTimeoutMs: 7_200_000, absoluteTimeoutMs: 3_600_000 };
    expect((await provider.init(empty, shortAbsolute)).expiresAt).toBe(now + 3_600_000);
    expect(await valuesOf(provider, empty)).toEqual({});
  });

  h.test(
    'an unknown id is never created: read, commit, incr and rename resolve null, destroy false',
    async () => {
      const { provider } = await h.shared();
      const sid = newSid();
      const other = newSid();
      expect(await provider.read(sid)).toBeNull();
      expect(await provider.commit(sid, setting({ a: 1 }))).toBeNull();
      expect(await provider.incr(sid, 'n', 1)).toBeNull();
      expect(await provider.rename(sid, other)).toBeNull();
      expect(await provider.destroy(sid)).toBe(false);
      expect(await provider.read(sid)).toBeNull();
      expect(await provider.read(other)).toBeNull();
    },
  );

  h.test('init on a live id rejects SessionExistsError and leaves the session as it was', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1 }));
    const before = await provider.read(sid);
    await expectRejection(
      () => provider.init(sid, LONG, setting({ b: 2 })),
      SessionExistsError,
      'init twice',
    );
    expect(await provider.read(sid)).toEqual(before);
  });

  h.test(
    'destroy removes the session for good: a commit after it resolves null and brings nothing back',
    async () => {
      const { provider } = await h.shared();
      const sid = newSid();
      await provider.init(sid, LONG, setting({ a: 1 }));
      expect(await provider.destroy(sid)).toBe(true);
      expect(await provider.read(sid)).toBeNull();
      expect(await provider.commit(sid, setting({ a: 2 }))).toBeNull();
      expect(await provider.commit(sid, {})).toBeNull();
      expect(await provider.read(sid)).toBeNull();
      expect(await provider.destroy(sid)).toBe(false);
    },
  );

  h.test('commit merges per key: keys it does not name are kept, deleted keys go', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1, b: 2, c: 3 }));
    const meta = await provider.commit(sid, { ...setting({ b: 'two', d: [4] }), delete: ['c', 'missing'] });
    expect(await valuesOf(provider, sid)).toEqual({ a: 1, b: 'two', d: [4] });
    const snapshot = await provider.read(sid);
    expect(meta?.expiresAt).toBe(snapshot?.expiresAt);
    expect(meta?.createdAt).toBe(snapshot?.createdAt);
  });

  h.test('within one delta, deletes come before sets, and a key set twice keeps the last value', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1 }));
    await provider.commit(sid, { set: [['a', bytes('kept')]], delete: ['a'] });
    await provider.commit(sid, {
      set: [
        ['b', bytes('first')],
        ['b', bytes('last')],
      ],
    });
    expect(await valuesOf(provider, sid)).toEqual({ a: 'kept', b: 'last' });
  });

  h.test(
    'commits issued together keep every key they change; on the same key the last issued wins',
    async () => {
      const { provider } = await h.shared();
      const sid = newSid();
      await provider.init(sid, LONG);
      // Two requests that read the same snapshot and commit at once: neither may lose the other's key.
      const results = await Promise.all([
        provider.commit(sid, setting({ cart: ['book'], same: 'first' })),
        provider.commit(sid, setting({ theme: 'dark', same: 'second' })),
        provider.commit(sid, setting({ lang: 'fr', same: 'third' })),
      ]);
      expect(results.every((meta) => meta !== null)).toBe(true);
      expect(await valuesOf(provider, sid)).toEqual({
        cart: ['book'],
        lang: 'fr',
        same: 'third',
        theme: 'dark',
      });
    },
  );

  h.test('bytes round-trip exactly, whatever the bytes and whatever the key', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'clé', '🔑', ' ', 'a.b[0]'];
    const stored: [string, Uint8Array][] = keys.map((key, i) => [key, every.subarray(i * 8)]);
    stored.push(['empty', new Uint8Array(0)], ['buffer', Buffer.from('a Node Buffer is a Uint8Array')]);
    await provider.init(sid, LONG, { set: stored.slice(0, 4) });
    await provider.commit(sid, { set: stored.slice(4) });
    const snapshot = await provider.read(sid);
    expect([...(snapshot?.values.keys() ?? [])].sort()).toEqual(stored.map(([key]) => key).sort());
    for (const [key, value] of stored) {
      const read = snapshot?.values.get(key);
      expect(read, key).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(read as Uint8Array).equals(Buffer.from(value)), key).toBe(true);
    }
  });

  h.test('a snapshot is a copy: later commits, increments and reads do not change it', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ a: 1, n: 1 }));
    const earlier = await provider.read(sid);
    const before = earlier && new Map([...earlier.values].map(([key, value]) => [key, Buffer.from(value)]));
    await provider.commit(sid, { ...setting({ a: 'changed', b: 2 }), delete: ['n'] });
    await provider.incr(sid, 'n', 5);
    await provider.read(sid);
    expect(earlier && [...earlier.values.keys()].sort()).toEqual(['a', 'n']);
    for (const [key, value] of before ?? []) {
      expect(Buffer.from(earlier?.values.get(key) as Uint8Array).equals(value), key).toBe(true);
    }
  });

  h.test('the provider keeps its own copy of the bytes it was given', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    const initial = bytes('initial');
    const committed = bytes('committed');
    await provider.init(sid, LONG, { set: [['a', initial]] });
    await provider.commit(sid, { set: [['b', committed]] });
    initial.fill(0);
    committed.fill(0);
    expect(await valuesOf(provider, sid)).toEqual({ a: 'initial', b: 'committed' });
  });

  h.test('count is the number of live sessions; stats hold one entry per partition, adding up', async () => {
    const { provider } = await h.fresh();
    const first = await provider.stats();
    expect(first.length).toBeGreaterThan(0);
    expect(first.map((entry) => entry.shard).sort((a, b) => a - b)).toEqual(first.map((_, i) => i));
    for (const entry of first) {
      for (const [field, value] of Object.entries(entry)) {
        expect(Number.isFinite(value) && value >= 0, `stats().${field} = ${value}`).toBe(true);
      }
    }
    expect(await provider.count()).toBe(0);
    const sids = Array.from({ length: 12 }, () => newSid());
    await Promise.all(sids.map((sid) => provider.init(sid, LONG)));
    expect(await provider.count()).toBe(12);
    expect(await statsTotal(provider, 'sessions')).toBe(12);
    await provider.destroy(sids[0] as string);
    await provider.destroy(sids[1] as string);
    expect(await provider.count()).toBe(10);
    expect(await statsTotal(provider, 'sessions')).toBe(10);
    const opsBefore = await statsTotal(provider, 'ops');
    await Promise.all(sids.map((sid) => provider.read(sid)));
    expect(await statsTotal(provider, 'ops')).toBeGreaterThan(opsBefore);
  });

  h.test('close finishes the work issued before it; then every call rejects ClosedError', async () => {
    const { provider } = await h.fresh();
    const sid = newSid();
    await provider.init(sid, LONG);
    // Issued, not awaited, when close is called: close must flush them, not drop or fail them.
    const created = provider.init(newSid(), LONG);
    const committed = provider.commit(sid, setting({ a: 1 }));
    await provider.close();
    await expect(created).resolves.toMatchObject({ createdAt: expect.any(Number) });
    await expect(committed).resolves.toMatchObject({ createdAt: expect.any(Number) });
    for (const [what, call] of afterClose(provider, sid)) await expectRejection(call, ClosedError, what);
    // Idempotent, also when two callers close at once.
    await expect(Promise.all([provider.close(), provider.close()])).resolves.toEqual([undefined, undefined]);
  });
}

/** One call of every operation, as made after close. */
function afterClose(provider: SessionProvider, sid: string): [string, () => Promise<unknown>][] {
  return [
    ['init', () => provider.init(newSid(), LONG)],
    ['read', () => provider.read(sid)],
    ['commit', () => provider.commit(sid, setting({ a: 2 }))],
    ['incr', () => provider.incr(sid, 'n', 1)],
    ['rename', () => provider.rename(sid, newSid())],
    ['destroy', () => provider.destroy(sid)],
    ['gc', () => provider.gc()],
    ['count', () => provider.count()],
    ['stats', () => provider.stats()],
  ];
}
