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
/** A bucket being drained (see `ExpiryIndex.firstDue`). */
interface Drain {
  readonly bucket: number;
  readonly cursor: Iterator<string>;
  walked: number;
  head: string | undefined;
}

export class ExpiryIndex {
  readonly #buckets = new Map<number, Set<string>>();
  /** Bucket numbers in ascending order: deadlines mostly grow, so inserts land at or near the end. */
  readonly #order: number[] = [];
  /**
   * The bucket being drained: its cursor, how many ids the drain walked past (all stale from then on), and
   * the id under the cursor, read ahead (`head`, not yet walked) so that eviction can look at it.
   */
  #draining: Drain | undefined;

  readonly #bucketMs: number;

  constructor(bucketMs: number) {
    this.#bucketMs = bucketMs;
  }

  /** Buckets held (each a Set of ids): what the index costs beyond its ids. */
  get bucketCount(): number {
    return this.#buckets.size;
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
    if (this.#draining?.bucket === bucket && this.#draining.head === sid) this.#draining.head = undefined;
    set.delete(sid);
    if (set.size === 0) this.dropBucket(bucket);
  }

  /**
   * The id filed first under the earliest deadline, other than `except`, with its bucket (it may be stale).
   * Looks past at most one id (`except`), so this stays O(1) but for a drained bucket's stale ids.
   */
  soonest(except?: string): { sid: string; bucket: number } | undefined {
    for (const bucket of this.#order) {
      if (this.#draining?.bucket === bucket) {
        // Past the cursor are stale ids; the first live one is the head.
        const head = this.#peek(this.#draining);
        if (head !== undefined && head !== except) return { sid: head, bucket };
        continue;
      }
      for (const sid of this.#buckets.get(bucket) as Set<string>) if (sid !== except) return { sid, bucket };
    }
    return undefined;
  }

  /**
   * How many filed sessions are due at `now` (deadline at or before it), without removing any: a bucket whose
   * whole span is past counts by its size (less the stale ids a drain walked past), and only the one bucket
   * `now` falls in is looked into, asking `isDue` for each id. O(due buckets + one bucket): this is how a
   * table counts its live sessions exactly without sweeping first.
   */
  dueCount(now: number, isDue: (sid: string, bucket: number) => boolean): number {
    let due = 0;
    for (const bucket of this.#order) {
      if (bucket * this.#bucketMs > now) break;
      const sids = this.#buckets.get(bucket) as Set<string>;
      if ((bucket + 1) * this.#bucketMs <= now) {
        due += sids.size - (this.#draining?.bucket === bucket ? this.#draining.walked : 0);
        continue;
      }
      for (const sid of sids) if (isDue(sid, bucket)) due++;
    }
    return due;
  }

  /**
   * The earliest bucket that starts at or before `now`, if any. `past` tells whether its whole span is
   * before `now` (every session in it has expired): then `cursor` walks it, resuming where the last walk
   * stopped, and the caller drops it with `dropBucket` when the cursor is done. Otherwise the caller checks
   * each session's deadline and removes the expired ones with `remove`.
   */
  firstDue(now: number): { bucket: number; past: boolean; sids: Set<string> } | undefined {
    const bucket = this.#order[0];
    if (bucket === undefined || bucket * this.#bucketMs > now) return undefined;
    const sids = this.#buckets.get(bucket) as Set<string>;
    const past = (bucket + 1) * this.#bucketMs <= now;
    if (past && this.#draining?.bucket !== bucket) {
      this.#draining = { bucket, cursor: sids.values(), walked: 0, head: undefined };
    } else if (!past && this.#draining?.bucket === bucket) {
      // The clock stepped back over a half-drained bucket: the caller checks every id of it (stale ones
      // included, which it removes), so the drain starts over when the bucket is past again.
      this.#draining = undefined;
    }
    return { bucket, past, sids };
  }

  /**
   * The next id of the bucket `firstDue` found past, resuming where the last walk stopped; undefined when the
   * bucket is walked through (then the caller drops it with `dropBucket`). Every id walked past is stale from
   * then on: the caller removes its record.
   */
  drainNext(): string | undefined {
    const draining = this.#draining;
    if (!draining) return undefined;
    const sid = this.#peek(draining);
    if (sid === undefined) return undefined;
    draining.head = undefined;
    draining.walked++;
    return sid;
  }

  #peek(draining: Drain): string | undefined {
    if (draining.head === undefined) {
      const next = draining.cursor.next();
      if (!next.done) draining.head = next.value;
    }
    return draining.head;
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
