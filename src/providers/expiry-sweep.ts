import type { ExpiryIndex } from './expiry-index.js';

// How many sessions the sweep removes between two looks at the clock: reading performance.now() per
// session would cost more than the removal itself.
const SWEEP_CLOCK_STRIDE = 64;

/** What a sweep needs of the table it sweeps (passed in: the table stays the only owner of its records). */
export interface SweptTable {
  readonly expiry: ExpiryIndex;
  /** The packed record under `sid` if it is still filed under `bucket`, else undefined (a stale index entry). */
  filed(sid: string, bucket: number): string | undefined;
  /** Removes an expired session. */
  expire(sid: string, packed: string): void;
  /** When a record dies. */
  expiresAt(packed: string): number;
}

/**
 * Removes expired sessions, oldest deadline first, until none is due or `budgetMs` has passed (then the
 * caller yields and calls again). Returns how many it removed and whether it got through them all.
 */
export function sweepExpired(
  table: SweptTable,
  now: number,
  budgetMs: number,
): { removed: number; done: boolean } {
  const { expiry } = table;
  const started = performance.now();
  // The GC tick is where the index sheds the stale ids that deadlines sliding elsewhere left behind.
  expiry.compactQueued();
  let removed = 0;
  const outOfTime = () => removed % SWEEP_CLOCK_STRIDE === 0 && performance.now() - started >= budgetMs;
  for (let due = expiry.firstDue(now); due; due = expiry.firstDue(now)) {
    if (due.past) {
      // Every session filed here has expired: remove them, then drop the bucket whole (its stale ids with it).
      for (let sid = expiry.drainNext(due.bucket); sid !== undefined; sid = expiry.drainNext(due.bucket)) {
        const packed = table.filed(sid, due.bucket);
        if (packed === undefined) continue; // stale: already gone, or refiled elsewhere
        table.expire(sid, packed);
        removed++;
        if (outOfTime()) return { removed, done: false };
      }
      expiry.dropBucket(due.bucket);
      continue;
    }
    // The bucket `now` falls in (the last due one, a fraction of a second of deadlines): some still live.
    const { sids, from, bucket } = due;
    for (let i = from; i < sids.length; i++) {
      const sid = sids[i] as string;
      const packed = table.filed(sid, bucket);
      if (packed !== undefined && table.expiresAt(packed) <= now) {
        table.expire(sid, packed);
        removed++;
      }
    }
    break;
  }
  return { removed, done: true };
}
