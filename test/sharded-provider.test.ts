import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import {
  ClosedError,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidSessionIdError,
  NotANumberError,
  OverloadedError,
  SessionExistsError,
  SessionTooLargeError,
  ShardUnavailableError,
} from '../src/errors.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { shardOf } from '../src/providers/sharded/shard-hash.js';
import { createProvider } from '../src/registry.js';
import { generateSid } from '../src/sid.js';

const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };

/** A fresh id that the given shard owns. */
function sidOnShard(shard: number, shards: number): string {
  for (;;) {
    const sid = generateSid();
    if (shardOf(sid, shards) === shard) return sid;
  }
}

describe("'sharded' provider", () => {
  const open: ShardedProvider[] = [];
  const make = (options: Parameters<typeof createShardedProvider>[0] = {}) => {
    const provider = createShardedProvider({ shards: 2, gcIntervalMs: 0, ...options });
    open.push(provider);
    return provider;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
  });

  it('is registered as "sharded" and runs one thread per shard', async () => {
    const provider = createProvider('sharded', { shards: 3, gcIntervalMs: 0 }) as ShardedProvider;
    open.push(provider);
    const stats = await provider.stats();
    expect(stats.map((s) => s.shard)).toEqual([0, 1, 2]);
    expect(new Set(stats.map((s) => s.threadId)).size).toBe(3);
    expect(stats.every((s) => s.threadId > 0)).toBe(true);
  });

  it('stores, merges deltas and reads back across shards', async () => {
    const p = make({ shards: 3 });
    const sids = Array.from({ length: 30 }, () => generateSid());
    await Promise.all(sids.map((sid, i) => p.init(sid, policy, { set: [['i', encodeValue(i)]] })));
    await Promise.all(sids.map((sid) => p.commit(sid, { set: [['when', encodeValue(new Date(5))]] })));
    const snaps = await Promise.all(sids.map((sid) => p.read(sid)));
    snaps.forEach((snap, i) => {
      expect(decodeValue(snap?.values.get('i') as Uint8Array)).toBe(i);
      expect(decodeValue(snap?.values.get('when') as Uint8Array)).toEqual(new Date(5));
    });
    expect(await p.count()).toBe(30);
    const stats = await p.stats();
    expect(stats.filter((s) => s.sessions > 0).length).toBe(3);
  });

  it('applies operations in the order sent: an unawaited commit is seen by the next read', async () => {
    const p = make();
    const sid = generateSid();
    await p.init(sid, policy);
    const reads: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      void p.commit(sid, { set: [['step', encodeValue(i)]] });
      reads.push(p.read(sid).then((snap) => decodeValue(snap?.values.get('step') as Uint8Array)));
    }
    expect(await Promise.all(reads)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('batches one turn of operations into frames of at most maxOpsPerFrame', async () => {
    for (const [maxOpsPerFrame, frames] of [
      [1000, 1],
      [50, 10],
    ] as const) {
      const p = make({ shards: 1, maxOpsPerFrame });
      const sid = generateSid();
      await p.init(sid, policy);
      const before = (await p.stats())[0]?.batches ?? 0;
      await Promise.all(Array.from({ length: 500 }, () => p.read(sid)));
      const after = (await p.stats())[0]?.batches ?? 0;
      // The 500 reads of one turn, then the frame carrying the second stats call.
      expect(after - before).toBe(frames + 1);
    }
  });

  it('10,000 concurrent incr on one id from many callers end at exactly 10,000', async () => {
    const p = make({ shards: 2 });
    const sid = generateSid();
    await p.init(sid, policy);
    const callers = Array.from({ length: 100 }, async () => {
      const seen: number[] = [];
      for (let i = 0; i < 100; i++) seen.push((await p.incr(sid, 'n', 1)) as number);
      return seen;
    });
    const all = (await Promise.all(callers)).flat();
    expect(all.length).toBe(10_000);
    expect(new Set(all).size).toBe(10_000);
    expect(decodeValue((await p.read(sid))?.values.get('n') as Uint8Array)).toBe(10_000);
  });

  it('renames within and across shards; the old id is dead, a taken new id is refused and nothing moves', async () => {
    const p = make({ shards: 2 });
    for (const [from, to] of [
      [0, 0],
      [0, 1],
    ] as const) {
      const oldSid = sidOnShard(from, 2);
      const newSid = sidOnShard(to, 2);
      const taken = sidOnShard(to, 2);
      await p.init(oldSid, policy, { set: [['user', encodeValue('ann')]] });
      await p.init(taken, policy);
      const before = await p.read(oldSid);
      await expect(p.rename(oldSid, taken)).rejects.toBeInstanceOf(SessionExistsError);
      const after = await p.read(oldSid);
      expect(after?.idleExpiresAt).toBe(before?.idleExpiresAt);
      expect(await p.rename(oldSid, newSid)).not.toBeNull();
      expect(await p.read(oldSid)).toBeNull();
      expect(decodeValue((await p.read(newSid))?.values.get('user') as Uint8Array)).toBe('ann');
      expect(await p.rename(oldSid, generateSid())).toBeNull();
    }
  });

  it('rejects bad input with typed errors and keeps every shard alive', async () => {
    const p = make({ shards: 2, maxValueBytes: 64, maxKeys: 2 });
    const sid = generateSid();
    await p.init(sid, policy, { set: [['n', encodeValue('text')]] });
    for (const bad of ['nope', `${sid}=`, sid.replace(/.$/, 'B'), undefined, 7]) {
      await expect(p.read(bad as string)).rejects.toBeInstanceOf(InvalidSessionIdError);
    }
    await expect(p.commit(sid, { set: [['big', new Uint8Array(65)]] })).rejects.toBeInstanceOf(
      SessionTooLargeError,
    );
    await expect(
      p.commit(sid, {
        set: [
          ['a', encodeValue(1)],
          ['b', encodeValue(2)],
        ],
      }),
    ).rejects.toBeInstanceOf(SessionTooLargeError);
    await expect(p.commit(sid, { set: [['f', (() => 1) as unknown as Uint8Array]] })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(p.commit(sid, 'junk' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(p.incr(sid, 'n', 1)).rejects.toBeInstanceOf(NotANumberError);
    await expect(p.incr(sid, { k: 1 } as never, 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(p.incr(sid, 'm', Number.POSITIVE_INFINITY)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(p.init(generateSid(), { idleTimeoutMs: -1, absoluteTimeoutMs: 5 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const stats = await p.stats();
    expect(stats.length).toBe(2);
    expect([...((await p.read(sid))?.values.keys() ?? [])]).toEqual(['n']);
  });

  it('refuses bad options at construction', () => {
    expect(() => createShardedProvider({ shards: 0 })).toThrow(InvalidOptionError);
    expect(() => createShardedProvider({ shards: 1.5 })).toThrow(InvalidOptionError);
    expect(() => createShardedProvider({ maxQueuedOps: -1 })).toThrow(InvalidOptionError);
    expect(() => createShardedProvider({ maxSessions: 0 })).toThrow(InvalidOptionError);
  });

  it('answers OverloadedError at once past maxQueuedOps, and recovers', async () => {
    const p = make({ shards: 1, maxQueuedOps: 100 });
    const sid = generateSid();
    await p.init(sid, policy);
    const results = await Promise.allSettled(Array.from({ length: 150 }, () => p.incr(sid, 'n', 1)));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(100);
    expect(rejected.length).toBe(50);
    expect(rejected.every((r) => (r as PromiseRejectedResult).reason instanceof OverloadedError)).toBe(true);
    expect(await p.incr(sid, 'n', 1)).toBe(101);
  });

  it('a dead shard rejects its pending operations promptly, restarts empty, and works again', async () => {
    const p = make({ shards: 2 });
    const doomed = sidOnShard(0, 2);
    const survivor = sidOnShard(1, 2);
    await p.init(doomed, policy);
    await p.init(survivor, policy);
    const [before] = await p.stats();
    // Operations in flight while the thread is killed. Whether the shard is still busy with them when the
    // kill lands is up to the scheduler, so kill again (with more work) until a kill catches some.
    let rejected: PromiseRejectedResult[] = [];
    for (let attempt = 1; attempt <= 10 && rejected.length === 0; attempt++) {
      const pending = Array.from({ length: 5000 * attempt }, () => p.init(sidOnShard(0, 2), policy));
      await new Promise((resolve) => setImmediate(resolve));
      await p.terminateShard(0);
      const settled = await Promise.allSettled(pending);
      rejected = settled.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    }
    expect(rejected.length).toBeGreaterThan(0);
    for (const result of rejected) expect(result.reason).toBeInstanceOf(ShardUnavailableError);
    // The restarted shard is a new, empty thread; the other shard kept its session.
    expect(await p.read(doomed)).toBeNull();
    expect(await p.read(survivor)).not.toBeNull();
    const [after] = await p.stats();
    expect(after?.threadId).not.toBe(before?.threadId);
    await p.init(doomed, policy);
    expect(await p.incr(doomed, 'n', 1)).toBe(1);
  });

  it('close flushes pending frames, then every call rejects with ClosedError', async () => {
    const p = make({ shards: 2 });
    const sid = generateSid();
    const created = p.init(sid, policy);
    await p.close();
    await expect(created).resolves.toBeTruthy();
    await expect(p.read(sid)).rejects.toBeInstanceOf(ClosedError);
    await expect(p.count()).rejects.toBeInstanceOf(ClosedError);
    await expect(p.close()).resolves.toBeUndefined();
  });

  it('expires lazily with the router clock and sweeps on gc(now)', async () => {
    let clock = 1_000_000;
    const p = make({ shards: 2, now: () => clock });
    const sids = Array.from({ length: 20 }, () => generateSid());
    await Promise.all(sids.map((sid) => p.init(sid, { idleTimeoutMs: 1000, absoluteTimeoutMs: 5000 })));
    clock += 1001;
    expect(await p.read(sids[0] as string)).toBeNull();
    expect(await p.gc()).toBe(19);
    expect(await p.count()).toBe(0);
    const expired = (await p.stats()).reduce((sum, s) => sum + s.expired, 0);
    expect(expired).toBe(20);
  });

  it("each shard's own GC tick sweeps, following the router's clock", async () => {
    let clock = Date.now();
    const p = make({ shards: 2, now: () => clock, gcIntervalMs: 20 });
    await Promise.all(
      Array.from({ length: 1000 }, () =>
        p.init(generateSid(), { idleTimeoutMs: 1000, absoluteTimeoutMs: 9000 }),
      ),
    );
    clock += 5000;
    await p.stats(); // a frame carries the new time to each shard
    let stats = await p.stats();
    for (let i = 0; i < 100 && stats.some((s) => s.sessions > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stats = await p.stats();
    }
    expect(stats.reduce((sum, s) => sum + s.sessions, 0)).toBe(0);
    expect(stats.reduce((sum, s) => sum + s.expired, 0)).toBe(1000);
    expect(stats.every((s) => s.gcSweeps > 0)).toBe(true);
  });
});
