/**
 * Which sessions expire when, bucketed by time (a timing wheel with unbounded rim): sweeping touches only
 * the buckets whose time has come, never every session, and the soonest-to-expire session is found in O(1)
 * for eviction. Within a bucket, sessions are kept in insertion order, so "soonest" is exact to one bucket.
 */
export class ExpiryIndex {
  private readonly buckets = new Map<number, Set<string>>();
  /** Bucket numbers in ascending order: deadlines mostly grow, so inserts land at or near the end. */
  private readonly order: number[] = [];

  constructor(private readonly bucketMs: number) {}

  /** Files `sid` under its deadline and returns the bucket, which the caller keeps to remove it later. */
  add(sid: string, expiresAt: number): number {
    const bucket = Math.floor(expiresAt / this.bucketMs);
    let set = this.buckets.get(bucket);
    if (!set) {
      set = new Set();
      this.buckets.set(bucket, set);
      this.insertOrdered(bucket);
    }
    set.add(sid);
    return bucket;
  }

  remove(sid: string, bucket: number): void {
    const set = this.buckets.get(bucket);
    if (!set) return;
    set.delete(sid);
    if (set.size === 0) this.dropBucket(bucket);
  }

  /** The session filed under the earliest deadline, if any. */
  soonest(): string | undefined {
    const first = this.order[0];
    if (first === undefined) return undefined;
    return this.buckets.get(first)?.values().next().value;
  }

  /**
   * The sessions of the earliest bucket that starts at or before `now`, or undefined when none is due.
   * Sessions in a bucket that is only partly past may still be alive: the caller checks each deadline.
   */
  firstDueBucket(now: number): { bucket: number; sids: Set<string> } | undefined {
    const first = this.order[0];
    if (first === undefined || first * this.bucketMs > now) return undefined;
    const sids = this.buckets.get(first);
    return sids ? { bucket: first, sids } : undefined;
  }

  /** The bucket after `bucket` that starts at or before `now`. */
  nextDueBucket(bucket: number, now: number): { bucket: number; sids: Set<string> } | undefined {
    const index = this.lowerBound(bucket + 1);
    const next = this.order[index];
    if (next === undefined || next * this.bucketMs > now) return undefined;
    const sids = this.buckets.get(next);
    return sids ? { bucket: next, sids } : undefined;
  }

  private insertOrdered(bucket: number): void {
    const last = this.order[this.order.length - 1];
    if (last === undefined || bucket > last) {
      this.order.push(bucket);
      return;
    }
    this.order.splice(this.lowerBound(bucket), 0, bucket);
  }

  private dropBucket(bucket: number): void {
    this.buckets.delete(bucket);
    if (this.order[0] === bucket) {
      this.order.shift();
      return;
    }
    const index = this.lowerBound(bucket);
    if (this.order[index] === bucket) this.order.splice(index, 1);
  }

  /** Index of the first bucket number >= `bucket`. */
  private lowerBound(bucket: number): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.order[mid] as number) < bucket) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
