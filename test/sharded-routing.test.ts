import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import { ClosedError } from '../src/errors.js';
import { createShardedProvider, type ShardedProvider } from '../src/providers/sharded/provider.js';
import { shardOf } from '../src/providers/sharded/shard-hash.js';
import { generateSid } from '../src/sid.js';

// Shard workers load the build: `npm run build` first (see src/providers/sharded/worker-path.ts).
// Where the provider sends an operation, and what it costs the shard: each test was a surviving mutant of
// provider.ts in the router group (issue 16) whose result was the same but whose path was not.

const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const open: ShardedProvider[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

function make(options: Parameters<typeof createShardedProvider>[0] = {}): ShardedProvider {
  const provider = createShardedProvider({ shards: 1, gcIntervalMs: 0, ...options });
  open.push(provider);
  return provider;
}

/** A fresh id that the given shard owns. */
function sidOnShard(shard: number, shards: number): string {
  for (;;) {
    const sid = generateSid();
    if (shardOf(sid, shards) === shard) return sid;
  }
}

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
