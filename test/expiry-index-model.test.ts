import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpiryIndex } from '../src/providers/expiry-index.js';

// The expiry index against a model of what it stands for: each session's deadline, and the buckets made and
// not yet dropped. Random adds, moves (a deadline slid, earlier or later, even back into a bucket that still
// holds the session's stale id), removals and bucket drops; after each step every question the table asks
// (due count at a bucket's edges, the soonest session, the first due bucket, ids held) is answered as the
// model answers it. Written for the survivors of a Stryker run over the array buckets (docs/testing.md).
const BUCKET_MS = 10;

type Step =
  | { kind: 'file'; sid: number; at: number }
  | { kind: 'remove'; sid: number }
  | { kind: 'drop'; bucket: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('file' as const), sid: fc.nat(11), at: fc.nat(79) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), sid: fc.nat(11) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), bucket: fc.nat(8) }) },
);

describe('ExpiryIndex against a model', () => {
  it('answers dueCount, soonest, firstDue and its sizes as the model does, after any sequence', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        const deadline = new Map<string, number>(); // the sessions filed, by deadline
        const buckets = new Set<number>(); // made by a filing, gone when dropped
        const bucketOf = (at: number) => Math.floor(at / BUCKET_MS);
        // A bucket whose last session left is dropped at once.
        const leftBucket = (bucket: number) => {
          for (const at of deadline.values()) if (bucketOf(at) === bucket) return;
          buckets.delete(bucket);
        };
        const index = new ExpiryIndex(BUCKET_MS, (sid, bucket) => {
          const at = deadline.get(sid);
          return at !== undefined && bucketOf(at) === bucket;
        });
        for (const s of steps) {
          if (s.kind === 'file') {
            const sid = `s${s.sid}`;
            const before = deadline.get(sid);
            if (before !== undefined) index.remove(sid, bucketOf(before));
            deadline.set(sid, s.at);
            if (before !== undefined) leftBucket(bucketOf(before));
            expect(index.add(sid, s.at)).toBe(bucketOf(s.at));
            buckets.add(bucketOf(s.at));
          } else if (s.kind === 'remove') {
            const sid = `s${s.sid}`;
            const before = deadline.get(sid);
            if (before === undefined) continue;
            deadline.delete(sid);
            index.remove(sid, bucketOf(before));
            leftBucket(bucketOf(before));
          } else {
            // A sweep drops a bucket once its sessions are gone: take them out of the model too.
            for (const [sid, at] of deadline) if (bucketOf(at) === s.bucket) deadline.delete(sid);
            index.dropBucket(s.bucket);
            buckets.delete(s.bucket);
          }
          check(index, deadline, buckets);
        }
      }),
      { seed: 16, numRuns: 300 },
    );

    function check(index: ExpiryIndex, deadline: Map<string, number>, buckets: Set<number>): void {
      // dueCount at every bucket's first and last ms and just past it, and before everything.
      for (const now of [-1, 0, 9, 10, 19, 20, 35, 49, 50, 79, 80]) {
        let due = 0;
        for (const at of deadline.values()) if (at <= now) due++;
        // As the table asks: the id is still filed in that bucket, and its deadline is reached.
        const isDue = (sid: string, bucket: number) => {
          const at = deadline.get(sid);
          return at !== undefined && Math.floor(at / BUCKET_MS) === bucket && at <= now;
        };
        expect(index.dueCount(now, isDue)).toBe(due);
      }
      // soonest: a session of the earliest bucket (within it, filing order: a session filed again beside its own
      // stale id keeps the older place, which the model does not track); skipping it, one of the next bucket.
      const bucketOfSid = (sid: string) => Math.floor((deadline.get(sid) as number) / BUCKET_MS);
      const byBucket = [...deadline.keys()].sort((a, b) => bucketOfSid(a) - bucketOfSid(b));
      const soonest = index.soonest();
      if (byBucket.length === 0) expect(soonest).toBeUndefined();
      else {
        const sid = soonest?.sid as string;
        expect(deadline.has(sid)).toBe(true);
        expect(soonest?.bucket).toBe(bucketOfSid(byBucket[0] as string));
        expect(bucketOfSid(sid)).toBe(soonest?.bucket);
        const rest = byBucket.filter((other) => other !== sid);
        const next = index.soonest(sid);
        if (rest.length === 0) expect(next).toBeUndefined();
        else {
          expect(next?.sid).not.toBe(sid);
          expect(next?.bucket).toBe(bucketOfSid(rest[0] as string));
          expect(bucketOfSid(next?.sid as string)).toBe(next?.bucket);
        }
      }
      // firstDue: the earliest bucket still made, once its start is reached; past once its end is.
      const earliest = Math.min(...buckets);
      for (const now of [
        earliest * BUCKET_MS - 1,
        earliest * BUCKET_MS,
        (earliest + 1) * BUCKET_MS - 1,
        (earliest + 1) * BUCKET_MS,
      ]) {
        const due = index.firstDue(now);
        if (buckets.size === 0 || earliest * BUCKET_MS > now) expect(due).toBeUndefined();
        else {
          expect(due?.bucket).toBe(earliest);
          expect(due?.past).toBe((earliest + 1) * BUCKET_MS <= now);
        }
      }
      expect(index.bucketCount).toBe(buckets.size);
      // Ids held stay bounded by the sessions (stale ones are compacted away): at most twice, plus slack.
      expect(index.idsHeld).toBeLessThanOrEqual(2 * deadline.size + 16 * buckets.size + 1);
    }
  });
});
