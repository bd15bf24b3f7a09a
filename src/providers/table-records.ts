import { Eviction, footprint, type Victim } from './eviction.js';
import { ExpiryIndex } from './expiry-index.js';
import { expiresAt, onProbation, withProbation } from './packed-record.js';
import type { RecordExtras, SessionRecord } from './session-record.js';
import { SidMap } from './sid-map.js';

/**
 * Where a table's sessions live, kept in step: the id map of packed records (packed-record.ts), the side map of
 * the few with extras (a binding, own timeouts), the expiry index and the eviction accounts. Every session
 * goes in and out through `file` and `unfile`, so none of them can drift from another. The table (session-
 * table.ts) decides what happens; this only keeps the books. The user index and the change listener are the
 * table's.
 */
export class TableRecords {
  readonly #sessions = new SidMap<string>();
  readonly #extras = new SidMap<RecordExtras>();
  readonly expiry: ExpiryIndex;
  readonly eviction: Eviction;

  constructor(maxShardBytes: number, bucketMs: number) {
    this.expiry = new ExpiryIndex(bucketMs, (sid, bucket) => this.filed(sid, bucket) !== undefined);
    this.eviction = new Eviction(maxShardBytes, this.expiry, this.#sessions);
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(sid: string): string | undefined {
    return this.#sessions.get(sid);
  }

  extras(sid: string): RecordExtras | undefined {
    return this.#extras.get(sid);
  }

  /** The session as it leaves the table or goes to the change listener. */
  record(sid: string, packed: string): SessionRecord {
    const extras = this.#extras.get(sid);
    return extras ? { packed, ...extras } : { packed };
  }

  /** The record under `sid` if it is filed under expiry bucket `bucket`; undefined for a stale index entry. */
  filed(sid: string, bucket: number): string | undefined {
    const packed = this.#sessions.get(sid);
    return packed !== undefined && this.#bucketOf(packed) === bucket ? packed : undefined;
  }

  file(sid: string, packed: string, extras: RecordExtras | undefined): void {
    this.#sessions.set(sid, packed);
    if (extras) this.#extras.set(sid, extras);
    this.eviction.added(sid, packed, extras);
    this.expiry.add(sid, expiresAt(packed));
  }

  /** Takes a session out of the books and returns its extras. */
  unfile(sid: string, packed: string): RecordExtras | undefined {
    this.#sessions.delete(sid);
    const extras = this.#extras.get(sid);
    if (extras !== undefined) this.#extras.delete(sid);
    this.eviction.removed(packed, extras);
    this.expiry.remove(sid, this.#bucketOf(packed));
    return extras;
  }

  /**
   * A commit or incr wrote `next` over `packed`: refiled in the expiry index only when its (slid) deadline
   * moved to another bucket (a busy session slides many times per bucket), its footprint follows.
   */
  replace(sid: string, packed: string, next: string): void {
    this.#sessions.set(sid, next);
    const bucket = this.#bucketOf(packed);
    if (this.#bucketOf(next) !== bucket) {
      this.expiry.remove(sid, bucket);
      this.expiry.add(sid, expiresAt(next));
    }
    this.eviction.bytes += next.length - packed.length;
  }

  /** A session on probation was read: its record loses the flag. Returns the record as it now is. */
  promote(sid: string, packed: string): string {
    if (!onProbation(packed)) return packed;
    const promoted = withProbation(packed, false);
    this.#sessions.set(sid, promoted);
    this.eviction.promoted();
    return promoted;
  }

  /** New extras for a held session (a binding changed); its footprint follows. */
  setExtras(sid: string, packed: string, extras: RecordExtras): void {
    this.eviction.bytes += footprint(packed, extras) - footprint(packed, this.#extras.get(sid));
    this.#extras.set(sid, extras);
  }

  /** The next session to remove to stay within the limits, by the eviction rule; never `except`. */
  victim(now: number, except?: string): Victim | undefined {
    return this.eviction.victim(now, except);
  }

  #bucketOf(packed: string): number {
    return this.expiry.bucketOf(expiresAt(packed));
  }
}
