import { describe, expect, it } from 'vitest';
import { ExpiryIndex } from '../src/providers/expiry-index.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import { generateSid } from '../src/sid.js';

describe('ExpiryIndex', () => {
  it('hands out due buckets oldest first and tells whether their whole span is past', () => {
    const index = new ExpiryIndex(100);
    const b2 = index.add('late', 250);
    const b1 = index.add('early', 120);
    index.add('future', 900);
    expect(index.soonest()).toEqual({ sid: 'early', bucket: b1 });
    const first = index.firstDue(260);
    expect(first).toMatchObject({ bucket: b1, past: true });
    index.dropBucket(b1);
    expect(index.firstDue(260)).toMatchObject({ bucket: b2, past: false });
    expect(index.firstDue(199)).toBeUndefined();
    index.remove('late', b2);
    expect(index.firstDue(260)).toBeUndefined();
  });
});

/** `count` sessions filed in bucket 10 (deadline 1,000) of an index that asks `filed` what is still filed. */
function filledBucket(count: number) {
  const filed = new Set<string>();
  const index = new ExpiryIndex(100, (sid) => filed.has(sid));
  const sids = Array.from({ length: count }, (_, i) => `s${i}`);
  for (const sid of sids) {
    filed.add(sid);
    index.add(sid, 1000);
  }
  /** A session leaves bucket 10 (removed, or filed elsewhere). */
  const leave = (sid: string) => {
    filed.delete(sid);
    index.remove(sid, 10);
  };
  return { filed, index, sids, leave };
}

describe('ExpiryIndex stale ids (lazy deletion)', () => {
  const policy = { idleTimeoutMs: 1000, absoluteTimeoutMs: 60_000 };

  it('holds at most about twice as many ids as sessions, however often deadlines move between buckets', () => {
    const table = new SessionTable(resolveLimits({}), 100);
    // One session stays in each of buckets 10 and 11, so neither empties (an empty bucket is dropped whole).
    table.init(generateSid(), policy, undefined, 0);
    table.init(generateSid(), policy, undefined, 100);
    const sids = Array.from({ length: 2000 }, () => generateSid());
    for (const sid of sids) table.init(sid, policy, undefined, 0);
    // Every session moves between the two buckets 50 times (the clock stepping back and forth): 100,000
    // moves, each leaving a stale id behind.
    for (let step = 1; step <= 50; step++) for (const sid of sids) table.commit(sid, {}, (step % 2) * 100);
    // Between sweeps, at most nine times (a bucket far past the bound is compacted at once)...
    expect(table.expiryIdsHeld).toBeLessThanOrEqual(9 * table.size + 16 * table.expiryBuckets);
    // ...and a sweep (the GC tick) compacts what went past twice, though it removes nothing.
    expect(table.sweep(999)).toEqual({ removed: 0, done: true });
    expect(table.expiryIdsHeld).toBeLessThanOrEqual(2 * table.size + 16 * table.expiryBuckets);
    expect(table.count(999)).toBe(2002);
    // The 2,000 are back in bucket 10 (deadline 1,000), beside their stale ids: each is counted once.
    expect(table.count(1000)).toBe(1);
    expect(table.count(1100)).toBe(0);
  });

  it('drops a bucket every session left without walking its ids, and compacts one that keeps some at the sweep', () => {
    let looks = 0;
    const filedIn = new Map<string, number>();
    const index = new ExpiryIndex(100, (sid, bucket) => {
      looks++;
      return filedIn.get(sid) === bucket;
    });
    const file = (sid: string, at: number) => filedIn.set(sid, index.add(sid, at));
    const move = (sid: string, at: number) => {
      index.remove(sid, filedIn.get(sid) as number);
      file(sid, at);
    };
    const sids = Array.from({ length: 1000 }, (_, i) => `s${i}`);
    // Every session slides out of bucket 10 into 11, one after another (busy sessions under load).
    for (const sid of sids) file(sid, 1000);
    for (const sid of sids) move(sid, 1100);
    expect(index.bucketCount).toBe(1);
    index.compactQueued();
    expect(looks).toBe(0);
    expect(index.idsHeld).toBe(1000);
    // 900 slide on into 12, 100 stay: bucket 11 holds 900 stale ids for 100 live ones until the sweep.
    for (const sid of sids.slice(100)) move(sid, 1200);
    expect(looks).toBe(0);
    expect(index.idsHeld).toBe(1900);
    index.compactQueued();
    expect(looks).toBe(1000);
    expect(index.idsHeld).toBe(1000);
  });

  it('compacts the queued buckets at once when the index holds more than eight stale ids per session', () => {
    const { index, sids, leave } = filledBucket(1000);
    // Sessions leave bucket 10 (removed): with 110 left, 890 stale ids ≤ 8 × 110 + 16: kept until a sweep.
    for (const sid of sids.slice(0, 890)) leave(sid);
    expect(index.idsHeld).toBe(1000);
    // With 109 left, 891 > 8 × 109 + 16 = 888: compacted on the spot, no sweep needed.
    leave(sids[890] as string);
    expect(index.idsHeld).toBe(109);
  });

  it('counts the stale ids of every bucket against the sessions of every bucket for the index-wide bound', () => {
    const { filed, index, sids, leave } = filledBucket(1030);
    filed.add('other');
    index.add('other', 2000); // a second bucket: 1 session, no stale id
    // Bound: stale > 8 × (live of both buckets) + 16 × 2 buckets. With 110 left in bucket 10: 920 stale, and
    // 8 × 111 + 32 = 920, not past it: nothing compacted.
    for (const sid of sids.slice(0, 920)) leave(sid);
    expect(index.idsHeld).toBe(1031);
    // With 109 left: 921 > 8 × 110 + 32 = 912: the queue is compacted.
    leave(sids[920] as string);
    expect(index.idsHeld).toBe(110);
  });

  it('counts the ids held right when it compacts a bucket whose head walked past stale ids', () => {
    const { index, sids, leave } = filledBucket(60);
    for (const sid of sids.slice(0, 10)) leave(sid);
    expect(index.soonest()).toEqual({ sid: 's10', bucket: 10 }); // walks past the 10 stale ids for good
    expect(index.idsHeld).toBe(50);
    for (const sid of sids.slice(25)) leave(sid); // 15 live, 35 stale > 15 + 16: queued
    index.compactQueued();
    expect(index.idsHeld).toBe(15);
  });

  it('compacts a bucket again at a later sweep when it passes the bound again', () => {
    const filedIn = new Map<string, number>();
    const index = new ExpiryIndex(100, (sid, bucket) => filedIn.get(sid) === bucket);
    const sids = Array.from({ length: 100 }, (_, i) => `s${i}`);
    for (const sid of sids) filedIn.set(sid, index.add(sid, 1000));
    const slideOut = (from: number, to: number) => {
      for (const sid of sids.slice(from, to)) {
        index.remove(sid, 10);
        filedIn.set(sid, index.add(sid, 5000));
      }
    };
    slideOut(0, 60); // bucket 10: 40 live, 60 stale > 40 + 16
    index.compactQueued();
    expect(index.idsHeld).toBe(100); // 40 in bucket 10, 60 in bucket 50
    slideOut(60, 90); // bucket 10: 10 live, 30 stale > 10 + 16 again
    index.compactQueued();
    expect(index.idsHeld).toBe(100);
  });

  it('keeps its compaction queue bounded when no sweep ever empties it (a GC tick turned off)', () => {
    const filedIn = new Map<string, number>();
    const index = new ExpiryIndex(100, (sid, bucket) => filedIn.get(sid) === bucket);
    const move = (sid: string, at: number) => {
      const from = filedIn.get(sid);
      if (from !== undefined) index.remove(sid, from);
      filedIn.set(sid, index.add(sid, at));
    };
    // Each round: 40 sessions filed in a new bucket, 36 of them slide on (the bucket is queued), then the last
    // 4 (it empties and is dropped, its number left in the queue). 1,000 rounds, one live bucket at a time.
    const sids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    let longest = 0;
    for (let round = 0; round < 1000; round++) {
      for (const sid of sids) {
        move(sid, round * 100);
        longest = Math.max(longest, index.compactionsQueued);
      }
      expect(index.bucketCount).toBeLessThanOrEqual(2);
    }
    // Emptied as soon as it holds more than the buckets held (2 while sessions slide) + 16.
    expect(longest).toBe(2 + 16);
    expect(index.idsHeld).toBe(40);
  });

  it('counts a session once when its deadline moves back into a bucket that still holds its stale id', () => {
    const table = new SessionTable(resolveLimits({}), 100);
    const sids = Array.from({ length: 10 }, () => generateSid());
    table.init(generateSid(), policy, undefined, 1000); // stays in bucket 20, which so stays with stale ids
    for (const sid of sids) table.init(sid, policy, undefined, 1000); // deadlines at 2,000: bucket 20
    for (const sid of sids) table.commit(sid, {}, 1500); // slid to 2,500: bucket 25; stale ids in 20
    for (const sid of sids) table.commit(sid, {}, 1000); // the clock stepped back: 2,000 again
    expect(table.count(1999)).toBe(11);
    expect(table.count(2000)).toBe(0);
    expect(table.sweep(2050)).toEqual({ removed: 11, done: true });
    expect(table.size).toBe(0);
  });
});

describe('SessionTable sweep', () => {
  const policy = { idleTimeoutMs: 1000, absoluteTimeoutMs: 10_000 };

  it('drains a large bucket across slices, keeping sessions that slid out of it', () => {
    const table = new SessionTable(resolveLimits({}));
    const sids = Array.from({ length: 20_000 }, () => generateSid());
    for (const sid of sids) table.init(sid, policy, undefined, 0);
    // Half of them are touched later, so they live on in a later bucket.
    for (const sid of sids.slice(0, 10_000)) table.commit(sid, {}, 800);
    let slices = 0;
    let removed = 0;
    for (let done = false; !done; slices++) {
      const result = table.sweep(1500, 0); // a zero budget: stop at every clock check
      removed += result.removed;
      done = result.done;
    }
    expect(removed).toBe(10_000);
    expect(slices).toBeGreaterThan(100);
    expect(table.size).toBe(10_000);
    expect(table.read(sids[0] as string, 1500)).toBeDefined();
    expect(table.read(sids[19_999] as string, 1500)).toBeUndefined();
    expect(table.count(1801)).toBe(0);
  });

  it('evicts past stale entries of a half-drained bucket', () => {
    const table = new SessionTable(resolveLimits({ maxSessions: 100 }));
    for (let i = 0; i < 100; i++) table.init(generateSid(), policy, undefined, 0);
    // A zero budget stops after the first 64 removals, leaving their ids stale in the bucket.
    expect(table.sweep(1200, 0)).toEqual({ removed: 64, done: false });
    expect(table.expiryIdsHeld).toBe(36); // the 64 drained ids are behind the bucket's head
    const fresh = Array.from({ length: 100 }, () => generateSid());
    for (const sid of fresh) table.init(sid, policy, undefined, 1200);
    expect(table.size).toBe(100);
    for (const sid of fresh) expect(table.read(sid, 1200)).toBeDefined();
    expect(table.counters.expired).toBe(100);
    expect(table.counters.evicted).toBe(0);
  });
});
