import { afterEach, describe, expect, it } from 'vitest';
import { encodeValue } from '../src/codec.js';
import type { SessionDelta, SessionSnapshot } from '../src/providers/provider.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// A commit's or an incr's answer brings the read cache's copy of the session up to date (cache-refresh.ts): the
// next read is a hit, and says exactly what the shard holds. Each read is compared with the same provider
// without a cache, at the same fake clock (moved between the read and the write, so the deadlines slide).

const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const clock = { t: Date.UTC(2026, 0, 1) };
const open: ShardedProvider[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

/** A provider with the cache and one without, on one clock. */
function pair(): [ShardedProvider, ShardedProvider] {
  const options = { shards: 1, now: () => clock.t, gcIntervalMs: 0 };
  const cached = createShardedProvider(options);
  const plain = createShardedProvider({ ...options, readCacheBytes: 0 });
  open.push(cached, plain);
  return [cached, plain];
}

async function hits(provider: ShardedProvider): Promise<number> {
  return (await provider.stats()).reduce((sum, s) => sum + (s.readCacheHits ?? 0), 0);
}

async function cachedSessions(provider: ShardedProvider): Promise<number> {
  return (await provider.stats()).reduce((sum, s) => sum + (s.readCacheSessions ?? 0), 0);
}

async function cachedBytes(provider: ShardedProvider): Promise<number> {
  return (await provider.stats()).reduce((sum, s) => sum + (s.readCacheBytes ?? 0), 0);
}

/** A snapshot as plain data, its values as an ordered list: a read lists keys in the record's order. */
function plainOf(snapshot: SessionSnapshot | null): unknown {
  return snapshot && { ...snapshot, values: [...snapshot.values].map(([k, v]) => [k, [...v]]) };
}

/** Both providers hold the session, read once (the cached one has it in its cache). */
async function bothRead(cached: ShardedProvider, plain: ShardedProvider, initial: SessionDelta) {
  const sid = generateSid();
  for (const p of [cached, plain]) {
    await p.init(sid, policy, initial);
    await p.read(sid);
  }
  return sid;
}

describe("'sharded' read cache, refreshed by a change's answer", () => {
  it('a read after a commit or an incr is a hit, equal to the uncached read, keys in the same order', async () => {
    const [cached, plain] = pair();
    const initial = {
      set: [
        ['a', encodeValue(1)],
        ['b', encodeValue('x')],
        ['c', encodeValue(3)],
      ] as const,
    };
    const sid = await bothRead(cached, plain, { set: [...initial.set] });
    const writes: ((p: ShardedProvider) => Promise<unknown>)[] = [
      // b is deleted and set again (it keeps its place), c deleted, e and d new (after, in that order).
      (p) =>
        p.commit(sid, {
          delete: ['c', 'e', 'b'],
          set: [
            ['e', encodeValue(5)],
            ['b', encodeValue('y')],
            ['d', encodeValue([4])],
            ['e', encodeValue(6)],
          ],
        }),
      (p) => p.incr(sid, 'a', 2), // same length: patched in place
      (p) => p.incr(sid, 'a', 1_000), // longer encoding
      (p) => p.incr(sid, 'n', -1), // a new key
      (p) => p.commit(sid, {}), // a touch: only the idle deadline slides
      (p) => p.commit(sid, { delete: ['a', 'zz'] }),
      (p) => p.commit(sid, { set: [['ключ', encodeValue('ü')]] }),
    ];
    for (const write of writes) {
      clock.t += 1_000;
      expect(await write(cached)).toEqual(await write(plain));
      const before = await hits(cached);
      const read = await cached.read(sid);
      expect(await hits(cached)).toBe(before + 1);
      expect(plainOf(read)).toEqual(plainOf(await plain.read(sid)));
    }
  });

  it('counts a refreshed copy at its new size, as a read would file it, and all of it when it leaves', async () => {
    const [cached] = pair();
    const [other] = pair();
    const sid = generateSid();
    const small = { set: [['a', encodeValue(1)]] } satisfies SessionDelta;
    await cached.init(sid, policy, small);
    await cached.read(sid);
    const before = await cachedBytes(cached);
    await cached.commit(sid, { set: [['b', encodeValue('x'.repeat(1_000))]] });
    // The same session filed by a read, in a cache of its own.
    await other.init(sid, policy, { set: [...small.set, ['b', encodeValue('x'.repeat(1_000))]] });
    await other.read(sid);
    expect(await cachedBytes(cached)).toBe(await cachedBytes(other));
    expect(await cachedBytes(cached)).toBeGreaterThan(before + 1_000);
    await cached.destroy(sid);
    expect(await cachedBytes(cached)).toBe(0);
  });

  it('is not refreshed when another change to the session was sent before the answer', async () => {
    const [cached, plain] = pair();
    const sid = await bothRead(cached, plain, { set: [['n', encodeValue(1)]] });
    clock.t += 1_000;
    for (const p of [cached, plain]) {
      await Promise.all([p.incr(sid, 'n', 1), p.commit(sid, { set: [['n', encodeValue(10)]] })]);
    }
    const before = await hits(cached);
    expect(plainOf(await cached.read(sid))).toEqual(plainOf(await plain.read(sid)));
    expect(await hits(cached)).toBe(before); // the commit's answer came with the incr still out: a miss
  });

  it('a change that failed or found no session files nothing', async () => {
    const [cached, plain] = pair();
    const sid = await bothRead(cached, plain, { set: [['s', encodeValue('text')]] });
    for (const p of [cached, plain]) await expect(p.incr(sid, 's', 1)).rejects.toThrow();
    // The copy the failed incr was to bring up to date is gone, not left behind unserved, holding budget.
    expect(await cachedSessions(cached)).toBe(0);
    expect(plainOf(await cached.read(sid))).toEqual(plainOf(await plain.read(sid)));
    for (const p of [cached, plain]) {
      await p.read(sid);
      const gone = p.destroy(sid);
      expect(await p.incr(sid, 'n', 1)).toBeNull();
      await gone;
    }
    expect(await cached.read(sid)).toBeNull();
  });

  it('is not refreshed while a revocation sent after the change is out: the next read waits for it', async () => {
    const [cached] = pair();
    const sid = generateSid();
    await cached.init(sid, policy, { set: [['n', encodeValue(1)]] });
    await cached.bindUser?.(sid, 'ann');
    await cached.read(sid);
    const incremented = cached.incr(sid, 'n', 1);
    // After the turn's flush sent the incr, and before its answer: the revocation waits for the next frame.
    await new Promise((resolve) => setImmediate(resolve));
    const revoked = cached.revokeUser?.('ann');
    expect(await incremented).toBe(2);
    expect(await cached.read(sid)).toBeNull(); // sent after the revocation: it sees it
    expect(await revoked).toBe(1);
  });

  it('a key the shard stores as another (a lone surrogate) is read back as the shard has it', async () => {
    const [cached, plain] = pair();
    const sid = await bothRead(cached, plain, { set: [['a', encodeValue(1)]] });
    for (const p of [cached, plain]) await p.commit(sid, { set: [['k\uD800', encodeValue(2)]] });
    expect(plainOf(await cached.read(sid))).toEqual(plainOf(await plain.read(sid)));
    for (const p of [cached, plain]) await p.incr(sid, 'n\uDC00', 1);
    expect(plainOf(await cached.read(sid))).toEqual(plainOf(await plain.read(sid)));
  });
});
