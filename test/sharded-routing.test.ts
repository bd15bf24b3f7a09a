import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import { ClosedError, ShardUnavailableError } from '../src/errors.js';
import type { SessionEvent } from '../src/providers/provider.js';
import { generateSid } from '../src/sid.js';
import { shardedProvidersPerTest, sidOnShard } from './support/sharded.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// Where the provider sends an operation, and what it costs the shard, and the two faults hangShard injects: each
// test was a surviving mutant of provider.ts in the router group (issue 16) whose result was the same but whose
// path was not.

const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const make = shardedProvidersPerTest();

describe("'sharded' routing", () => {
  // The point of the read cache: a hit costs the shard nothing (readCacheHits alone counts a lookup, hit or not
  // used: a provider that looked the session up and then asked the shard anyway showed the same hits).
  it('a read answered from the cache never reaches the shard', async () => {
    const p = make();
    const sid = generateSid();
    await p.init(sid, policy, { set: [['user', encodeValue('ann')]] });
    const first = await p.read(sid);
    expect(await p.read(sid)).toStrictEqual(first);
    expect(await p.read(sid)).toStrictEqual(first);
    const [shard] = await p.stats();
    expect(shard?.readCacheHits).toBe(2);
    expect(shard?.ops, 'the init and the first read').toBe(2);
  });

  // Within one shard a rename is one operation: nothing can come between the old id's end and the new id's
  // start. Done as a take and a put, a read of the new id sent right behind it ran between the two.
  it('a rename within one shard is one operation: a read of the new id sent right behind it sees the session', async () => {
    const p = make({ shards: 2 });
    expect(p.shardCount).toBe(2);
    const oldSid = sidOnShard(0, 2);
    const newSid = sidOnShard(0, 2);
    await p.init(oldSid, policy, { set: [['user', encodeValue('ann')]] });
    const renamed = p.rename(oldSid, newSid);
    const read = p.read(newSid); // not awaited behind the rename: the same frame
    expect((await renamed)?.createdAt).toBeGreaterThan(0);
    const snapshot = await read;
    expect(snapshot, 'the read ran between a take and a put').not.toBeNull();
    expect(decodeValue(snapshot?.values.get('user') as Uint8Array)).toBe('ann');
  });

  // As 'memory' does: a closed provider says so before it looks at the arguments.
  it('once closed, refuses every call with ClosedError before checking the id', async () => {
    const p = make();
    await p.close();
    const bad = 'not an id';
    const calls: [string, () => Promise<unknown>][] = [
      ['init', () => p.init(bad, policy)],
      ['read', () => p.read(bad)],
      ['commit', () => p.commit(bad, { set: [] })],
      ['incr', () => p.incr(bad, 'n', 1)],
      ['rename', () => p.rename(bad, bad)],
      ['destroy', () => p.destroy(bad)],
    ];
    for (const [what, call] of calls) {
      await expect(call(), what).rejects.toBeInstanceOf(ClosedError);
    }
  });
});

describe('hangShard', () => {
  // The two faults differ in whether the shard's event loop still runs: a dropping shard keeps its GC tick
  // (and its events), a looping one is stuck. The injected clock, carried by the hang's own frame, expires the
  // session: the next tick of a shard whose loop runs sweeps it.
  async function hung(mode: 'drop' | 'loop', shardTimeoutMs: number) {
    let clock = Date.UTC(2026, 0, 1);
    const p = make({ now: () => clock, gcIntervalMs: 5, shardTimeoutMs });
    const expired: SessionEvent[] = [];
    p.onEvents((events) => expired.push(...events.filter((e) => e.type === 'expired')));
    const sid = generateSid();
    await p.init(sid, policy);
    await p.bindUser(sid, 'ann'); // bound: its expiry is an event
    clock += policy.absoluteTimeoutMs + 1;
    p.hangShard(0, mode);
    return { p, expired };
  }

  it("'drop' stops the answers, not the shard: its GC tick still sweeps", async () => {
    const { p, expired } = await hung('drop', 60_000);
    try {
      const since = performance.now();
      while (expired.length === 0) {
        if (performance.now() - since > 5000)
          throw new Error('no expiry event from the dropping shard in 5 s');
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await p.terminateShard(0); // rather than wait a minute for the watchdog
    }
  });

  it("'loop' stops the shard: no tick runs until the watchdog restarts it", async () => {
    const { p, expired } = await hung('loop', 1000);
    await expect(p.count()).rejects.toBeInstanceOf(ShardUnavailableError);
    expect(expired, 'a stuck shard swept a session').toStrictEqual([]);
  });
});
