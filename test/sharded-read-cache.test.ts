import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import { InvalidOptionError, ShardUnavailableError } from '../src/errors.js';
import type { SessionEvent } from '../src/providers/provider.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';
import { tempDir } from './support/temp-dir.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// The read cache (read-cache.ts): what it answers, when it must not, its budget. Its coherence under random
// sequences is sharded-read-cache-model.test.ts; the contract suite runs with it (contract/sharded-*.test.ts).

const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const open: ShardedProvider[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

function make(options: Parameters<typeof createShardedProvider>[0] = {}): ShardedProvider {
  const provider = createShardedProvider({ shards: 1, ...options });
  open.push(provider);
  return provider;
}

async function hits(provider: ShardedProvider): Promise<number> {
  return (await provider.stats()).reduce((sum, s) => sum + (s.readCacheHits ?? 0), 0);
}

const value = (snapshot: Awaited<ReturnType<ShardedProvider['read']>>, key: string) =>
  decodeValue(snapshot?.values.get(key) as Uint8Array);

describe("'sharded' read cache", () => {
  it('answers the second read of a session from the main thread, with the real clock and GC tick on', async () => {
    const p = make(); // the defaults: a 16 MiB cache, a GC tick every second, Date.now
    const sid = generateSid();
    await p.init(sid, policy, { set: [['user', encodeValue('ann')]] });
    const first = await p.read(sid);
    const second = await p.read(sid);
    expect(second).toEqual(first);
    expect(await hits(p)).toBe(1);
    const [shard] = await p.stats();
    expect(shard?.readCacheSessions).toBe(1);
    expect(shard?.readCacheBytes).toBeGreaterThan(0);
  });

  it('a commit not awaited is seen by the next read, which goes to the shard', async () => {
    const p = make();
    const sid = generateSid();
    await p.init(sid, policy, { set: [['n', encodeValue(1)]] });
    await p.read(sid);
    expect(value(await p.read(sid), 'n')).toBe(1); // a hit
    void p.commit(sid, { set: [['n', encodeValue(2)]] });
    expect(value(await p.read(sid), 'n')).toBe(2);
    expect(await hits(p)).toBe(1);
  });

  // Each of these was a surviving mutant of read-cache.ts (issue 16): an operation left out of the ones that
  // drop a session's copy when queued, or out of the barriers that empty the cache while in flight.
  it('every change not awaited is seen by the next read: rename, setTimeouts, revoke, revokeUser', async () => {
    const p = make();
    const cachedSession = async (bind?: string) => {
      const sid = generateSid();
      await p.init(sid, policy, { set: [['n', encodeValue(1)]] });
      const binding = bind === undefined ? undefined : await p.bindUser?.(sid, bind);
      await p.read(sid);
      const before = await hits(p);
      expect(await p.read(sid)).not.toBeNull();
      expect(await hits(p)).toBe(before + 1); // it is in the cache
      return { sid, handle: binding?.handle as string };
    };

    const renamed = await cachedSession();
    const newSid = generateSid();
    void p.rename(renamed.sid, newSid);
    expect(await p.read(renamed.sid)).toBeNull();
    expect(value(await p.read(newSid), 'n')).toBe(1);

    const retimed = await cachedSession();
    void p.setTimeouts?.(retimed.sid, { idleTimeoutMs: 5_000, absoluteTimeoutMs: 600_000 });
    expect((await p.read(retimed.sid))?.idleTimeoutMs).toBe(5_000);

    const revoked = await cachedSession('ann');
    void p.revoke?.('ann', revoked.handle);
    expect(await p.read(revoked.sid)).toBeNull();

    const loggedOut = await cachedSession('bob');
    void p.revokeUser?.('bob');
    expect(await p.read(loggedOut.sid)).toBeNull();
  });

  it('a read sent before a write is not filed: the next read sees the write', async () => {
    const p = make();
    const sid = generateSid();
    await p.init(sid, policy, { set: [['n', encodeValue(1)]] });
    // The read leaves in the same frame as the increment behind it: its answer (n = 1) is older than the
    // increment, so it must not be what the cache keeps.
    const [before] = await Promise.all([p.read(sid), p.incr(sid, 'n', 1)]);
    expect(value(before, 'n')).toBe(1);
    expect(value(await p.read(sid), 'n')).toBe(2);
    expect(value(await p.read(sid), 'n')).toBe(2);
  });

  it('keeps to its byte budget, and does not keep a session over half of it', async () => {
    const budget = 8_000;
    const p = make({ readCacheBytes: budget });
    const sids = Array.from({ length: 40 }, () => generateSid());
    for (const sid of sids) {
      await p.init(sid, policy, { set: [['v', encodeValue('x'.repeat(100))]] });
      await p.read(sid);
      expect((await p.stats())[0]?.readCacheBytes).toBeLessThanOrEqual(budget);
    }
    const [shard] = await p.stats();
    expect(shard?.readCacheSessions).toBeGreaterThan(5);
    expect(shard?.readCacheSessions).toBeLessThan(40);
    // The newest are there: read again, they are hits.
    const before = await hits(p);
    await p.read(sids.at(-1) as string);
    expect(await hits(p)).toBe(before + 1);
    // A session of 5,000 bytes is more than half the budget: read twice, it is never a hit.
    const big = generateSid();
    await p.init(big, policy, { set: [['v', encodeValue('x'.repeat(5_000))]] });
    await p.read(big);
    await p.read(big);
    expect(await hits(p)).toBe(before + 1);
  });

  it('two reads of one session in flight file it once: its bytes are counted once', async () => {
    const p = make();
    const [one, two] = [generateSid(), generateSid()];
    for (const sid of [one, two]) await p.init(sid, policy, { set: [['v', encodeValue('x')]] });
    await p.read(one);
    const [single] = await p.stats();
    await Promise.all([p.read(two), p.read(two)]);
    const [both] = await p.stats();
    expect(both?.readCacheSessions).toBe(2);
    expect(both?.readCacheBytes).toBe(2 * (single?.readCacheBytes as number));
  });

  it('splits its byte budget between the shards: all of them together keep to readCacheBytes', async () => {
    const budget = 8_000;
    const p = make({ shards: 2, readCacheBytes: budget });
    for (let i = 0; i < 80; i++) {
      const sid = generateSid();
      await p.init(sid, policy, { set: [['v', encodeValue('x'.repeat(100))]] });
      await p.read(sid);
    }
    const stats = await p.stats();
    const held = stats.reduce((sum, shard) => sum + (shard.readCacheBytes ?? 0), 0);
    // Each shard filled its share (40 sessions each would be far more than 4,000 bytes).
    for (const shard of stats) expect(shard.readCacheBytes).toBeGreaterThan(budget / 4);
    expect(held).toBeLessThanOrEqual(budget);
  });

  it('with readCacheBytes 0 every read goes to the shard', async () => {
    const p = make({ readCacheBytes: 0 });
    const sid = generateSid();
    await p.init(sid, policy);
    for (let i = 0; i < 3; i++) await p.read(sid);
    const [shard] = await p.stats();
    expect(shard?.readCacheHits).toBe(0);
    expect(shard?.ops).toBe(4);
  });

  it('never serves what the shard GC tick swept, even when the provider clock lags real time', async () => {
    // The router's clock is frozen; the shard's tick runs on it plus the real time since the last frame, so
    // the tick sweeps the session while the router's clock still says it is alive. Without the cache, the
    // next read finds it gone: so must the cache.
    const frozen = Date.now();
    const p = make({ now: () => frozen, gcIntervalMs: 20 });
    const expired: SessionEvent[] = [];
    p.onEvents((events) => expired.push(...events.filter((e) => e.type === 'expired')));
    const sid = generateSid();
    await p.init(sid, { idleTimeoutMs: 200, absoluteTimeoutMs: 600_000 });
    await p.bindUser(sid, 'ann'); // bound: its expiry is an event, which tells when the tick swept it
    await p.read(sid);
    expect(await p.read(sid)).not.toBeNull();
    const since = performance.now();
    while (expired.length === 0) {
      if (performance.now() - since > 10_000)
        throw new Error('the GC tick did not sweep the session in 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await p.read(sid)).toBeNull();
  });

  it("drops a terminated shard's sessions: the restarted shard is empty, and so is what the cache answers", async () => {
    const p = make();
    const sid = generateSid();
    await p.init(sid, policy);
    await p.read(sid);
    expect(await p.read(sid)).not.toBeNull();
    await p.terminateShard(0);
    expect(await p.read(sid)).toBeNull();
    expect((await p.stats())[0]?.readCacheSessions).toBe(0);
  });

  it("drops a stuck shard's sessions when the watchdog restarts it", async () => {
    const p = make({ shardTimeoutMs: 300 });
    const sid = generateSid();
    await p.init(sid, policy);
    await p.read(sid);
    p.hangShard(0, 'loop');
    // Sent after the hang, so ordered behind it: it waits for the stuck shard, not served from the cache.
    await expect(p.read(sid)).rejects.toBeInstanceOf(ShardUnavailableError);
    expect(await p.read(sid)).toBeNull();
  });

  it('rejects a bad readCacheBytes, and any with dir', () => {
    for (const bad of [-1, 1.5, '1', Number.NaN]) {
      expect(() => createShardedProvider({ readCacheBytes: bad as number })).toThrow(InvalidOptionError);
    }
    const dir = tempDir();
    try {
      expect(() => createShardedProvider({ dir: dir.path, readCacheBytes: 1024 })).toThrow(/readCacheBytes/);
    } finally {
      dir.remove();
    }
  });
});
