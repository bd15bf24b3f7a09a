import { afterEach, describe, expect, it } from 'vitest';
import { encodeValue } from '../src/codec.js';
import { ShardUnavailableError } from '../src/errors.js';
import { SESSION_OVERHEAD_BYTES } from '../src/providers/eviction.js';
import { headBytes, unpackValues } from '../src/providers/packed-record.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

// Issue 12, item 7: memory was bounded by session count only, so a shard could run out of heap and die with
// all its sessions. `maxShardBytes` (default: half the shard thread's old-generation limit) evicts first.

const policy = { idleTimeoutMs: 600_000, absoluteTimeoutMs: 3_600_000 };
// A record's head under this policy (its idle timeout is a varint: the head's length depends on it).
const HEAD_BYTES = headBytes({
  createdAt: 0,
  idleTimeoutMs: policy.idleTimeoutMs,
  idleExpiresAt: 0,
  absoluteExpiresAt: 0,
});
const twoKeys = (i: number) => ({
  set: [
    ['user', encodeValue(`user-${i}`)],
    ['n', encodeValue(i)],
  ] as [string, Uint8Array][],
});

const open: ShardedProvider[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

describe('maxShardBytes (SessionTable)', () => {
  it('new sessions evict by the eviction rule to stay within the budget', () => {
    const table = new SessionTable(resolveLimits({ maxShardBytes: 100_000 }));
    const user = generateSid();
    table.init(user, policy, twoKeys(0), 0);
    table.read(user, 1); // came back: off probation
    for (let i = 1; i < 2000; i++) {
      table.init(generateSid(), policy, twoKeys(i), i);
      expect(table.bytes).toBeLessThanOrEqual(100_000);
    }
    expect(table.counters.evicted).toBeGreaterThan(1400);
    expect(table.read(user, 2000)).toBeDefined();
    // Each session counts its overhead and its packed record: a head and two keys of 2 B of lengths each, at least.
    expect(table.size * (SESSION_OVERHEAD_BYTES + HEAD_BYTES + 2 * 2)).toBeLessThanOrEqual(100_000);
  });

  it('a commit that grows a session past the budget evicts others, never the session being written', () => {
    const table = new SessionTable(
      resolveLimits({ maxShardBytes: 200_000, maxSessionBytes: 190_000, maxValueBytes: 190_000 }),
    );
    const sids = Array.from({ length: 100 }, () => generateSid());
    for (const sid of sids) table.init(sid, policy, undefined, 0);
    const big = sids[0] as string;
    table.commit(big, { set: [['blob', new Uint8Array(185_000)]] }, 1);
    expect(table.bytes).toBeLessThanOrEqual(200_000);
    expect(unpackValues(table.read(big, 2) as string).get('blob')?.byteLength).toBe(185_000);
    expect(table.counters.evicted).toBeGreaterThan(0);
    // And an incr that adds a key to a session on probation, at the budget, keeps that session.
    const full = new SessionTable(
      resolveLimits({ maxShardBytes: 10 * (SESSION_OVERHEAD_BYTES + HEAD_BYTES) }),
    );
    const mine = Array.from({ length: 10 }, () => generateSid());
    for (const sid of mine) full.init(sid, policy, undefined, 0);
    expect(full.incr(mine[0] as string, 'n', 1, 1)).toBe(1);
    expect(full.read(mine[0] as string, 2)).toBeDefined();
    expect(full.bytes).toBeLessThanOrEqual(10 * (SESSION_OVERHEAD_BYTES + HEAD_BYTES));
  });

  it('rejects a bad maxShardBytes', () => {
    expect(() => resolveLimits({ maxShardBytes: 0 })).toThrow(/maxShardBytes/);
  });
});

describe('a shard under a tight heap limit (resourceLimits: 24 MB of old generation)', () => {
  const resourceLimits = { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 };

  /** Creates `total` sessions of two keys, 500 per turn; resolves how many inits failed, and how. */
  async function fill(provider: ShardedProvider, total: number) {
    const failures: unknown[] = [];
    for (let done = 0; done < total && failures.length === 0; done += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          provider
            .init(generateSid(), policy, twoKeys(done + i))
            .catch((error: unknown) => failures.push(error)),
        ),
      );
    }
    return failures;
  }

  it('with the default budget, 150,000 sessions (~35 MB of heap) evict instead of killing the thread', async () => {
    const provider = createShardedProvider({ shards: 1, gcIntervalMs: 0, resourceLimits });
    open.push(provider);
    const [before] = await provider.stats();
    expect(await fill(provider, 150_000)).toEqual([]);
    const [after] = await provider.stats();
    expect(after?.threadId).toBe(before?.threadId); // the same thread: it never died
    expect(after?.evicted).toBeGreaterThan(80_000);
    // Default budget: half of 24 MB, each session counted at its overhead and at least a head and two keys.
    const counted = SESSION_OVERHEAD_BYTES + HEAD_BYTES + 2 * 2;
    expect(after?.sessions).toBeLessThanOrEqual(Math.ceil((12 * 1024 * 1024) / counted));
    expect(after?.heapUsedBytes).toBeLessThan(24 * 1024 * 1024);
    // The default, worked out in the shard's thread from its resourceLimits, and the bytes held under it.
    expect(after?.maxBytes).toBe(12 * 1024 * 1024);
    expect(after?.bytes).toBeLessThanOrEqual(12 * 1024 * 1024);
    expect(after?.bytes).toBeGreaterThan(11 * 1024 * 1024);
  });

  it('without a budget that fits (maxShardBytes 1 GB), the same load kills the thread: what the budget prevents', async () => {
    const provider = createShardedProvider({
      shards: 1,
      gcIntervalMs: 0,
      resourceLimits,
      maxShardBytes: 2 ** 30,
    });
    open.push(provider);
    const failures = await fill(provider, 150_000);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toBeInstanceOf(ShardUnavailableError);
  });
});
