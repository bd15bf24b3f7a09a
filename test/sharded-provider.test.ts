import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import {
  ClosedError,
  InvalidArgumentError,
  InvalidOptionError,
  OverloadedError,
  SessionExistsError,
  ShardUnavailableError,
} from '../src/errors.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { createProvider } from '../src/registry.js';
import { generateSid } from '../src/sid.js';
import { sidOnShard, within } from './support/sharded.js';
import { threadNames, untilThreadsAtMost } from './support/threads.js';

const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };

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

  it('is registered as "sharded", runs one thread per shard and spreads sessions over every shard', async () => {
    const provider = createProvider('sharded', { shards: 3, gcIntervalMs: 0 }) as ShardedProvider;
    open.push(provider);
    await Promise.all(Array.from({ length: 30 }, () => provider.init(generateSid(), policy)));
    const stats = await provider.stats();
    expect(stats.map((s) => s.shard)).toEqual([0, 1, 2]);
    expect(new Set(stats.map((s) => s.threadId)).size).toBe(3);
    expect(stats.every((s) => s.threadId > 0)).toBe(true);
    expect(stats.every((s) => s.sessions > 0)).toBe(true);
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

  it('rename takes the one-shard path and the cross-shard path (take, then put) with the same result', async () => {
    let clock = Date.UTC(2026, 0, 1); // the router's clock, not the wall clock
    const p = make({ shards: 2, now: () => clock });
    for (const [from, to] of [
      [0, 0],
      [0, 1],
    ] as const) {
      const oldSid = sidOnShard(from, 2);
      const newSid = sidOnShard(to, 2);
      const taken = sidOnShard(to, 2);
      await p.init(oldSid, policy, { set: [['user', encodeValue('ann')]] });
      await p.init(taken, policy, { set: [['user', encodeValue('bob')]] });
      const before = await p.read(oldSid);
      clock += 1000;
      // Refused by the new id's shard: the record taken from the old shard goes back as it was, not slid.
      await expect(p.rename(oldSid, taken)).rejects.toBeInstanceOf(SessionExistsError);
      expect(await p.read(oldSid)).toEqual(before);
      expect(decodeValue((await p.read(taken))?.values.get('user') as Uint8Array)).toBe('bob');
      expect((await p.rename(oldSid, newSid))?.idleExpiresAt).toBe(clock + policy.idleTimeoutMs);
      expect(await p.read(oldSid)).toBeNull();
      expect(decodeValue((await p.read(newSid))?.values.get('user') as Uint8Array)).toBe('ann');
    }
  });

  // rename() used to put the taken record back only when the put failed with SessionExistsError: any other
  // failure (OverloadedError here, ShardUnavailableError if the new shard dies) lost the session.
  it('a cross-shard rename refused by an overloaded new shard leaves the session where it was', async () => {
    const p = make({ shards: 2, maxQueuedOps: 2 });
    const oldSid = sidOnShard(0, 2);
    const newSid = sidOnShard(1, 2);
    const other = sidOnShard(1, 2);
    await p.init(oldSid, policy, { set: [['user', encodeValue('ann')]] });
    // The increment travels in the take's frame and is answered just before it: its callback fills the new
    // shard's queue in the moment between the take's answer and the put.
    const fill = p.incr(oldSid, 'n', 1).then(() => Promise.allSettled([p.read(other), p.read(other)]));
    const renamed = p.rename(oldSid, newSid);
    await expect(renamed).rejects.toBeInstanceOf(OverloadedError);
    await fill;
    const after = await p.read(oldSid);
    expect(after, 'the session is gone from both ids').not.toBeNull();
    expect(decodeValue(after?.values.get('user') as Uint8Array)).toBe('ann');
  });

  it('terminateShard names a shard that exists, or throws InvalidArgumentError', async () => {
    const p = make({ shards: 1 });
    await expect(p.terminateShard(1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(p.terminateShard(-1)).rejects.toBeInstanceOf(InvalidArgumentError);
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

  // Linux shows a process's threads in /proc/self/task: a shard thread left running would stay there.
  it.skipIf(process.platform !== 'linux')('close() ends every shard thread', async () => {
    // Once first, so that whatever the process starts lazily on first use (libuv's pool) is counted before.
    const warm = createShardedProvider({ shards: 1, gcIntervalMs: 0 });
    await warm.stats();
    await warm.close();
    const before = threadNames().length;
    const p = createShardedProvider({ shards: 3, gcIntervalMs: 0 });
    await p.stats();
    expect(threadNames().length).toBeGreaterThanOrEqual(before + 3);
    await p.close();
    await untilThreadsAtMost(before, 5000, 'a shard thread runs after close()');
  });

  it('gc() asks each shard for slice after slice until it is swept through', async () => {
    // A 1 ms slice cannot remove 40,000 sessions: every shard answers "not done" several times.
    const p = make({ shards: 2, gcSliceMs: 1 });
    const sids = Array.from({ length: 40_000 }, () => generateSid());
    await Promise.all(sids.map((sid) => p.init(sid, policy)));
    expect(await p.gc(Date.now() + policy.idleTimeoutMs + 1)).toBe(40_000);
    expect(await p.count()).toBe(0);
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
      // Settled from now on: they may reject while terminateShard is still awaited.
      const settling = Promise.allSettled(pending);
      await new Promise((resolve) => setImmediate(resolve));
      await p.terminateShard(0);
      const settled = await within(5000, 'the dead shard’s operations', settling);
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

  it('close() sends what is queued, resolves every operation, and only then ends the threads', async () => {
    const p = make({ shards: 2 });
    const sids = Array.from({ length: 200 }, () => generateSid());
    // Queued in this turn, not yet flushed when close() is called.
    const inits = sids.map((sid) => p.init(sid, policy, { set: [['n', encodeValue(1)]] }));
    const counted = p.count();
    await within(5000, 'close()', p.close());
    const settled = await within(1000, 'operations queued before close()', Promise.allSettled(inits));
    expect(settled.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await within(1000, 'count queued before close()', counted)).toBe(200);
    // Closed: refused at once, with ClosedError.
    await expect(within(1000, 'read after close()', p.read(sids[0] as string))).rejects.toBeInstanceOf(
      ClosedError,
    );
  });

  it("each shard's own GC tick sweeps, following the router's clock", async () => {
    let clock = Date.UTC(2026, 0, 1); // the router's clock, not the wall clock
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
