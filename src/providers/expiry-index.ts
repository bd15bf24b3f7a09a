/**
 * Which sessions expire when, bucketed by time (a timing wheel with an unbounded rim): sweeping touches
 * only the buckets whose time has come, never every session, and the soonest-to-expire session is found
 * in O(1) for eviction. Within a bucket, sessions are kept in insertion order.
 *
 * A bucket whose whole time span is past is drained without deleting from it: its Set is walked with one
 * iterator that survives across GC slices, and dropped whole at the end. Deleting a login storm's worth
 * of ids one by one would make V8 shrink (rehash) the Set again and again, pauses of tens of ms.
 * So a drained bucket may hold ids that are no longer stored ("stale"); callers check the record.
 */
export class ExpiryIndex {
  readonly #buckets = new Map<number, Set<string>>();
  /** Bucket numbers in ascending order: deadlines mostly grow, so inserts land at or near the end. */
  readonly #order: number[] = [];
  /** The bucket being drained and where the drain stopped. */
  #draining: { bucket: number; cursor: Iterator<string> } | undefined;

  readonly #bucketMs: number;

  constructor(bucketMs: number) {
    this.#bucketMs = bucketMs;
  }

  /** The bucket a deadline falls in. */
  bucketOf(expiresAt: number): number {
    return Math.floor(expiresAt / this.#bucketMs);
  }

  /** Files `sid` under its deadline and returns the bucket, which the caller keeps to remove it later. */
  add(sid: string, expiresAt: number): number {
    const bucket = this.bucketOf(expiresAt);
    let set = this.#buckets.get(bucket);
    if (!set) {
      set = new Set();
      this.#buckets.set(bucket, set);
      this.#insertOrdered(bucket);
    }
    set.add(sid);
    return bucket;
  }

  remove(sid: string, bucket: number): void {
    const set = this.#buckets.get(bucket);
    if (!set) return;
    set.delete(sid);
    if (set.size === 0) this.dropBucket(bucket);
  }

  /** The id filed first under the earliest deadline, with its bucket (it may be stale). */
  soonest(): { sid: string; bucket: number } | undefined {
    const bucket = this.#order[0];
    if (bucket === undefined) return undefined;
    const sid = this.#buckets.get(bucket)?.values().next().value;
    return sid === undefined ? undefined : { sid, bucket };
  }

  /**
   * The earliest bucket that starts at or before `now`, if any. `past` tells whether its whole span is
   * before `now` (every session in it has expired): then `cursor` walks it, resuming where the last walk
   * stopped, and the caller drops it with `dropBucket` when the cursor is done. Otherwise the caller checks
   * each session's deadline and removes the expired ones with `remove`.
   */
  firstDue(
    now: number,
  ): { bucket: number; past: boolean; sids: Set<string>; cursor: Iterator<string> } | undefined {
    const bucket = this.#order[0];
    if (bucket === undefined || bucket * this.#bucketMs > now) return undefined;
    const sids = this.#buckets.get(bucket) as Set<string>;
    const past = (bucket + 1) * this.#bucketMs <= now;
    if (this.#draining?.bucket !== bucket) this.#draining = { bucket, cursor: sids.values() };
    return { bucket, past, sids, cursor: this.#draining.cursor };
  }

  dropBucket(bucket: number): void {
    this.#buckets.delete(bucket);
    if (this.#draining?.bucket === bucket) this.#draining = undefined;
    if (this.#order[0] === bucket) {
      this.#order.shift();
      return;
    }
    const index = this.#lowerBound(bucket);
    if (this.#order[index] === bucket) this.#order.splice(index, 1);
  }

  #insertOrdered(bucket: number): void {
    const last = this.#order[this.#order.length - 1];
    if (last === undefined || bucket > last) {
      this.#order.push(bucket);
      return;
    }
    this.#order.splice(this.#lowerBound(bucket), 0, bucket);
  }

  /** Index of the first bucket number >= `bucket`. */
  #lowerBound(bucket: number): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#order[mid] as number) < bucket) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
