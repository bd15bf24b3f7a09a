import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/codec.js';
import { ClosedError } from '../../src/errors.js';
import { SESSION_OVERHEAD_BYTES } from '../../src/providers/eviction.js';
import { createMemoryProvider, type MemoryProvider } from '../../src/providers/memory.js';
import { generateSid } from '../../src/sid.js';

// The 'memory' provider's own numbers and its gc() (memory.ts), exactly: its stats entry field by field, a
// gc at a given time and on its own clock, over many slices. Written for the survivors of a Stryker run of
// the `table` group (test/memory-provider.test.ts has the tick, the op counts and the limits' messages).

const POLICY = { idleTimeoutMs: 1000, absoluteTimeoutMs: 60_000 };

describe("'memory' provider: stats and gc", () => {
  let provider: MemoryProvider | undefined;
  afterEach(async () => {
    await provider?.close().catch(() => undefined);
    provider = undefined;
  });

  it('reports one entry: this thread, its sessions, calls, bytes and budget', async () => {
    let clock = 1_000_000;
    const p = createMemoryProvider({ now: () => clock, gcIntervalMs: 0, maxShardBytes: 123_456 });
    provider = p;
    const [a, b] = [generateSid(), generateSid()];
    await p.init(a, POLICY, { set: [['k', encodeValue('v')]] });
    await p.init(b, POLICY);
    const snapshot = await p.read(a); // a call, and an op
    expect([...(snapshot?.values.get('k') ?? [])]).toEqual([...encodeValue('v')]);
    clock += 5000; // both expired, not swept
    expect(await p.read(b)).toBeNull(); // expired on access: swept
    const [stats, ...more] = await p.stats();
    expect(more).toEqual([]);
    expect(stats).toEqual({
      shard: 0,
      threadId,
      sessions: 1,
      ops: 4,
      batches: 5, // every call, this stats() included
      queueDepth: 0,
      gcSweeps: 0,
      gcMaxSliceMs: 0,
      expired: 1,
      evicted: 0,
      heapUsedBytes: expect.any(Number),
      // The head (layout byte, three float64, 1,001 as a 2-byte varint), then 'k': a length byte, the key, a
      // length byte, the value.
      bytes: SESSION_OVERHEAD_BYTES + 1 + 3 * 8 + 2 + 1 + 1 + 1 + encodeValue('v').byteLength,
      maxBytes: 123_456,
    });
    expect(stats?.heapUsedBytes).toBeGreaterThan(0);
    expect((await p.stats())[0]?.batches).toBe(6);
  });

  it('gc() sweeps at the time given, else at its own clock, and counts every session it removed', async () => {
    let clock = 0;
    const p = createMemoryProvider({ now: () => clock, gcIntervalMs: 0 });
    provider = p;
    for (let i = 0; i < 3; i++)
      await p.init(generateSid(), { idleTimeoutMs: 1000, absoluteTimeoutMs: 60_000 });
    for (let i = 0; i < 2; i++)
      await p.init(generateSid(), { idleTimeoutMs: 5000, absoluteTimeoutMs: 60_000 });
    expect(await p.gc(999)).toBe(0);
    expect(await p.gc(1000)).toBe(3);
    expect(await p.count()).toBe(2);
    clock = 4999;
    expect(await p.gc()).toBe(0);
    clock = 5000;
    expect(await p.gc()).toBe(2);
    expect((await p.stats())[0]).toMatchObject({ sessions: 0, expired: 5 });
  });

  it('gc() yields to the event loop between slices, and goes on until every expired session is gone', async () => {
    const p = createMemoryProvider({ now: () => 0, gcIntervalMs: 0, gcSliceMs: 1 });
    provider = p;
    const total = 20_000; // milliseconds of sweeping: several 1 ms slices
    for (let i = 0; i < total; i++) await p.init(generateSid(), POLICY);
    let finished = false;
    const swept = p.gc(2000).then((removed) => {
      finished = true;
      return removed;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(finished).toBe(false); // the first slice ended and let this turn run
    expect(await swept).toBe(total);
    expect((await p.stats())[0]).toMatchObject({ sessions: 0, expired: total });
  });

  it('counts the users with a bound session, and names itself in an unknown option', async () => {
    const p = createMemoryProvider({ gcIntervalMs: 0 });
    provider = p;
    const [a, b] = [generateSid(), generateSid()];
    await p.init(a, POLICY);
    await p.init(b, POLICY);
    expect(p.indexedUsers).toBe(0);
    await p.bindUser(a, 'ann');
    await p.bindUser(b, 'bob');
    expect(p.indexedUsers).toBe(2);
    await p.destroy(a);
    expect(p.indexedUsers).toBe(1);
    expect(() => createMemoryProvider({ shards: 2 } as never)).toThrow(
      /unknown option 'shards' of the 'memory' provider \(known: maxShardBytes, /,
    );
  });

  it('refuses every call after close', async () => {
    const p = createMemoryProvider({ gcIntervalMs: 0 });
    const sid = generateSid();
    await p.init(sid, POLICY);
    await p.close();
    const calls: (() => Promise<unknown>)[] = [
      () => p.init(generateSid(), POLICY),
      () => p.read(sid),
      () => p.commit(sid, {}),
      () => p.incr(sid, 'n', 1),
      () => p.rename(sid, generateSid()),
      () => p.destroy(sid),
      () => p.bindUser(sid, 'ann'),
      () => p.sessionsOf('ann'),
      () => p.revoke('ann', 'handle-xxxxxxxxxxxxxxx'),
      () => p.revokeUser('ann'),
      () => p.setTimeouts(sid, POLICY),
      () => p.gc(),
      () => p.count(),
      () => p.stats(),
    ];
    for (const call of calls) await expect(call()).rejects.toThrow(ClosedError);
  });
});
