/**
 * Which sessions expire when, bucketed by time (a timing wheel with an unbounded rim): sweeping touches
 * only the buckets whose time has come, never every session, and the soonest-to-expire session is found
 * in O(1) for eviction. Within a bucket, sessions are kept in filing order.
 *
 * A bucket is a plain array of ids (8 B an id; the Set it used to be cost 21–26 B an id at 0.2–1 M
 * sessions, measured with v8 heap statistics after a full GC), and nothing is ever deleted from the middle of
 * one: a session that leaves a bucket (its deadline slid into another, or it was removed) leaves its id behind,
 * stale, and is filed again where its deadline now falls. Whether an id is still filed under a bucket is the
 * record's to say (`IsFiled`: its deadline falls in that bucket). Stale ids are walked past at the head of a
 * bucket (`head`), or dropped by compacting the bucket once they outnumber its live ones: each id is walked past
 * or copied O(1) times overall. Deleting a login storm's worth of ids from a Set one by one made V8 shrink (rehash)
 * it again and again, pauses of tens of ms; an array has no such pause.
 *
 * Compaction waits for the GC tick (`compactQueued`, called by every sweep): a busy session's deadline slides
 * into a new bucket on almost every request, so the bucket it left usually empties within a second and is then
 * dropped whole, its stale ids with it, for free. Compacting it on the request path while it drained walked
 * about twice its ids, each a look into the id map: 1.6 µs of shard-session's ~38 µs per read-modify-write
 * request (CPU profile of the bench's 'memory' server at saturation). The queue is compacted at once only when
 * the whole index holds more than `HARD_STALE_FACTOR` stale ids per session (a per-bucket bound would fire on
 * every draining bucket as its last sessions leave), so an index whose sweeps never run (a GC tick turned off)
 * still holds a bounded number of ids.
 *
 * Every bucket counts its sessions exactly (`live`: those whose deadline falls in it), so how many sessions
 * are due at `now` is the sum of the wholly past buckets' counts plus one look into the bucket `now` falls in.
 */
interface Bucket {
  /** Ids filed here, in filing order; those before `head` were walked past (stale, or removed by a sweep). */
  sids: string[];
  head: number;
  /** Sessions whose deadline falls in this bucket: the ids from `head` on that are filed, duplicates once. */
  live: number;
  /** An id may be here twice: one was filed while a stale id was here, which may have been its own. */
  dupes: boolean;
  /** Waiting in the compaction queue. */
  queued: boolean;
}

/** Whether `sid` is still filed under `bucket` (the table's record says where its deadline falls). */
export type IsFiled = (sid: string, bucket: number) => boolean;

/** Stale ids a bucket keeps beyond as many as it has live ones, before it is queued for compaction. */
const COMPACT_SLACK = 16;
/** Stale ids per session, over the whole index, past which the queue is compacted at once. */
const HARD_STALE_FACTOR = 8;

export class ExpiryIndex {
  readonly #buckets = new Map<number, Bucket>();
  /** Bucket numbers in ascending order: deadlines mostly grow, so inserts land at or near the end. */
  readonly #order: number[] = [];
  readonly #bucketMs: number;
  readonly #isFiled: IsFiled;
  /** Buckets past the stale-id bound, compacted by the next `compactQueued` unless dropped first. */
  #compactQueue: number[] = [];
  /** Ids held from every bucket's head on (stale ones included), and sessions filed: kept as they change. */
  #held = 0;
  #live = 0;

  /** `isFiled` defaults to "every id filed is still there" (for an index used without a table). */
  constructor(bucketMs: number, isFiled: IsFiled = () => true) {
    this.#bucketMs = bucketMs;
    this.#isFiled = isFiled;
  }

  /** Buckets held: what the index costs beyond its ids. */
  get bucketCount(): number {
    return this.#buckets.size;
  }

  /** Buckets waiting in the compaction queue, dropped ones included (diagnostics: bounded without sweeps too). */
  get compactionsQueued(): number {
    return this.#compactQueue.length;
  }

  /** Ids held, stale ones included (diagnostics: the index must not grow past about twice its sessions). */
  get idsHeld(): number {
    // The count kept as ids come and go (what the index-wide bound in `remove` reads), not a walk: the tests of
    // the ids held thereby check that bookkeeping too.
    return this.#held;
  }

  /** The bucket a deadline falls in. */
  bucketOf(expiresAt: number): number {
    return Math.floor(expiresAt / this.#bucketMs);
  }

  /** Files `sid` under its deadline and returns the bucket; the caller tells `remove` when it leaves it. */
  add(sid: string, expiresAt: number): number {
    const number = this.bucketOf(expiresAt);
    let bucket = this.#buckets.get(number);
    if (!bucket) {
      bucket = { sids: [], head: 0, live: 0, dupes: false, queued: false };
      this.#buckets.set(number, bucket);
      this.#insertOrdered(number);
    }
    if (bucket.sids.length - bucket.head > bucket.live) bucket.dupes = true;
    bucket.sids.push(sid);
    bucket.live++;
    this.#held++;
    this.#live++;
    return number;
  }

  /** `sid` left `bucket` (removed, or its deadline moved): its id stays behind, stale. */
  remove(_sid: string, number: number): void {
    const bucket = this.#buckets.get(number);
    if (!bucket) return;
    this.#live--;
    if (--bucket.live === 0) {
      this.dropBucket(number);
      return;
    }
    if (!bucket.queued && bucket.sids.length - bucket.head - bucket.live > bucket.live + COMPACT_SLACK) {
      bucket.queued = true;
      this.#compactQueue.push(number);
    }
    // Buckets under their own bound hold at most `live + COMPACT_SLACK` stale ids each: past this, the queue's do.
    // The queue itself is bounded too: with no sweep to empty it, it would keep the numbers of dropped buckets.
    if (
      this.#held - this.#live > HARD_STALE_FACTOR * this.#live + COMPACT_SLACK * this.#buckets.size ||
      this.#compactQueue.length > this.#buckets.size + COMPACT_SLACK
    ) {
      this.compactQueued();
    }
  }

  /**
   * Compacts the buckets that went past the stale-id bound since the last call and still are (a bucket that
   * emptied meanwhile was dropped whole): after it, every bucket holds at most about twice as many ids as it
   * has sessions. O(the queued buckets' ids), each walked once per stale-id bound crossed.
   */
  compactQueued(): void {
    const queue = this.#compactQueue;
    if (queue.length === 0) return;
    this.#compactQueue = [];
    for (const number of queue) {
      const bucket = this.#buckets.get(number);
      if (bucket === undefined || !bucket.queued) continue;
      bucket.queued = false;
      if (bucket.sids.length - bucket.head - bucket.live > bucket.live + COMPACT_SLACK) {
        this.#compact(number, bucket);
      }
    }
  }

  /**
   * The id filed first under the earliest deadline, other than `except`, with its bucket. Stale ids at the head
   * of a bucket are walked past for good, so this is O(1) amortized but for ids stale behind `except`.
   */
  soonest(except?: string): { sid: string; bucket: number } | undefined {
    for (const number of this.#order) {
      const bucket = this.#buckets.get(number) as Bucket;
      const { sids } = bucket;
      for (let i = bucket.head; i < sids.length; i++) {
        const sid = sids[i] as string;
        if (!this.#isFiled(sid, number)) {
          if (i === bucket.head) {
            bucket.head++;
            this.#held--;
          }
        } else if (sid !== except) return { sid, bucket: number };
      }
    }
    return undefined;
  }

  /**
   * How many filed sessions are due at `now` (deadline at or before it), without removing any: a bucket whose
   * whole span is past counts by its `live` count, and only the one bucket `now` falls in is looked into, asking
   * `isDue` for each id (once for an id filed twice). O(due buckets + one bucket): this is how a table counts its
   * live sessions exactly without sweeping first.
   */
  dueCount(now: number, isDue: (sid: string, bucket: number) => boolean): number {
    let due = 0;
    for (const number of this.#order) {
      if (number * this.#bucketMs > now) break;
      const bucket = this.#buckets.get(number) as Bucket;
      if ((number + 1) * this.#bucketMs <= now) {
        due += bucket.live;
        continue;
      }
      const seen = bucket.dupes ? new Set<string>() : undefined;
      for (let i = bucket.head; i < bucket.sids.length; i++) {
        const sid = bucket.sids[i] as string;
        if (seen?.has(sid) || !isDue(sid, number)) continue;
        seen?.add(sid);
        due++;
      }
    }
    return due;
  }

  /**
   * The earliest bucket that starts at or before `now`, if any. `past` tells whether its whole span is before
   * `now` (every session filed in it has expired): then the caller walks it with `drainNext`, which resumes where
   * the last walk stopped, and drops it with `dropBucket` at the end. Otherwise the caller checks each id of
   * `sids` from `from` on and removes the expired ones (removals never change that array: a compaction makes
   * a new one).
   */
  firstDue(
    now: number,
  ): { bucket: number; past: boolean; sids: readonly string[]; from: number } | undefined {
    const number = this.#order[0];
    if (number === undefined || number * this.#bucketMs > now) return undefined;
    const { sids, head } = this.#buckets.get(number) as Bucket;
    return { bucket: number, past: (number + 1) * this.#bucketMs <= now, sids, from: head };
  }

  /**
   * The next id of bucket `number`, resuming where the last walk stopped; undefined when it is walked through
   * (or gone). The caller checks that the id is still filed there, and removes its session if it is.
   */
  drainNext(number: number): string | undefined {
    const bucket = this.#buckets.get(number);
    if (bucket === undefined || bucket.head >= bucket.sids.length) return undefined;
    this.#held--;
    return bucket.sids[bucket.head++];
  }

  /** Forgets a bucket and every id in it (nothing if it is gone already). */
  dropBucket(number: number): void {
    const bucket = this.#buckets.get(number);
    if (bucket === undefined) return;
    this.#buckets.delete(number);
    this.#held -= bucket.sids.length - bucket.head;
    this.#live -= bucket.live;
    if (this.#order[0] === number) {
      this.#order.shift();
      return;
    }
    const index = this.#lowerBound(number);
    if (this.#order[index] === number) this.#order.splice(index, 1);
  }

  /** Keeps only the ids still filed (each once): O(ids), paid for by the more than `live` removals before it. */
  #compact(number: number, bucket: Bucket): void {
    const seen = bucket.dupes ? new Set<string>() : undefined;
    const kept: string[] = [];
    for (let i = bucket.head; i < bucket.sids.length; i++) {
      const sid = bucket.sids[i] as string;
      if (seen?.has(sid) || !this.#isFiled(sid, number)) continue;
      seen?.add(sid);
      kept.push(sid);
    }
    this.#held -= bucket.sids.length - bucket.head - kept.length;
    bucket.sids = kept;
    bucket.head = 0;
    bucket.dupes = false;
  }

  #insertOrdered(number: number): void {
    const last = this.#order[this.#order.length - 1];
    if (last === undefined || number > last) {
      this.#order.push(number);
      return;
    }
    this.#order.splice(this.#lowerBound(number), 0, number);
  }

  /** Index of the first bucket number >= `number`. */
  #lowerBound(number: number): number {
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#order[mid] as number) < number) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
