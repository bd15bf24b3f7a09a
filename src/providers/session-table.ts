import { SessionExistsError } from '../errors.js';
import { applyDelta, applyIncr } from './apply-delta.js';
import { Eviction, footprint } from './eviction.js';
import { ExpiryIndex } from './expiry-index.js';
import type { SessionDelta, SessionMeta, SessionPolicy } from './provider.js';
import type { ResolvedLimits } from './provider-options.js';
import {
  expiresAt,
  meta,
  newRecord,
  type SessionRecord,
  type TableChangeListener,
} from './session-record.js';
import { SidMap } from './sid-map.js';
import { type Removal, UserIndex } from './user-index.js';

/** Counters a table keeps about itself; the GC tick adds its own. */
export interface TableCounters {
  ops: number;
  expired: number;
  evicted: number;
  gcSweeps: number;
  gcMaxSliceMs: number;
}

// How many sessions the sweep removes between two looks at the clock: reading performance.now() per
// session would cost more than the removal itself.
const SWEEP_CLOCK_STRIDE = 64;

/**
 * The synchronous heart of every built-in store: a Map of sessions with limits, an expiry index and
 * incremental GC. The 'memory' provider wraps one table; each shard worker of 'sharded' owns one. Keeping
 * one implementation is what makes both providers answer the same operations with the same results.
 * Every method takes `now` from its caller, so time is controllable in tests. Arguments are trusted: the
 * providers check them at their boundary (`contract-checks.ts`) before they reach a table.
 */
export class SessionTable {
  readonly #sessions = new SidMap<SessionRecord>();
  readonly #expiry: ExpiryIndex;
  readonly #eviction: Eviction;
  readonly counters: TableCounters = { ops: 0, expired: 0, evicted: 0, gcSweeps: 0, gcMaxSliceMs: 0 };
  /** Bound sessions by user, and their events (issue 13): see user-index.ts. */
  readonly users: UserIndex;

  readonly #limits: ResolvedLimits;
  /** Told of every record written or removed (a durable shard persists them); not of `restore`. */
  readonly #changed: TableChangeListener | undefined;

  constructor(limits: ResolvedLimits, bucketMs = 100, changed?: TableChangeListener) {
    this.#limits = limits;
    this.#expiry = new ExpiryIndex(bucketMs);
    this.#eviction = new Eviction(limits.maxShardBytes, this.#expiry, this.#sessions);
    this.#changed = changed;
    this.users = new UserIndex({
      live: (sid, now) => this.#live(sid, now),
      remove: (sid, record, reason) => this.#remove(sid, record, reason),
      changed: (sid, record) => this.#changed?.(sid, record),
    });
  }

  /** Puts back (or, `undefined`, forgets) a session read from durable storage, untold to the listener and
   * not on probation: it is stored already and outlived a restart. Not an operation. */
  restore(sid: string, record: SessionRecord | undefined): void {
    const current = this.#sessions.get(sid);
    if (current) {
      this.#forget(sid, current);
      this.#expiry.remove(sid, current.bucket);
    } else if (record) this.#makeRoom(Number.NEGATIVE_INFINITY, footprint(record), true);
    if (!record) return;
    this.#sessions.set(sid, record);
    this.#eviction.added(sid, record, false);
    record.bucket = this.#expiry.add(sid, expiresAt(record));
    if (record.binding !== undefined) this.users.added(sid, record);
  }

  /** Sessions held, including expired ones not yet swept. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Whether a record is held under `sid`, expired or not (for tests and diagnostics: no side effect). */
  holds(sid: string): boolean {
    return this.#sessions.get(sid) !== undefined;
  }

  /** Bytes held, as counted against `maxShardBytes` (see `SESSION_OVERHEAD_BYTES`). */
  get bytes(): number {
    return this.#eviction.bytes;
  }

  /** The byte budget in force: `maxShardBytes`, or its default worked out from this thread's heap limit. */
  get maxBytes(): number {
    return this.#eviction.maxBytes;
  }

  /** Buckets of the expiry index (diagnostics: it must shrink back as sessions expire). */
  get expiryBuckets(): number {
    return this.#expiry.bucketCount;
  }

  /** Sessions on probation: never read since their creation, evicted first. */
  get onProbation(): number {
    return this.#eviction.onProbation;
  }

  init(sid: string, policy: SessionPolicy, initial: SessionDelta | undefined, now: number): SessionMeta {
    this.counters.ops++;
    if (this.#live(sid, now)) throw new SessionExistsError();
    const record = newRecord(policy, now);
    if (initial) applyDelta(record, initial, this.#limits);
    this.#makeRoom(now, footprint(record), true);
    this.#insert(sid, record, true); // on probation until a later request reads it: see eviction.ts
    return meta(record);
  }

  /**
   * The live record, or undefined. The caller must not keep or mutate it across operations. A read is what
   * a later request of the same client does first, so it takes the session off probation.
   */
  read(sid: string, now: number): SessionRecord | undefined {
    this.counters.ops++;
    const record = this.#live(sid, now);
    if (record) this.#eviction.promote(sid, record);
    return record;
  }

  commit(sid: string, delta: SessionDelta, now: number): SessionMeta | null {
    this.counters.ops++;
    const record = this.#live(sid, now);
    if (!record) return null;
    const before = footprint(record);
    applyDelta(record, delta, this.#limits);
    this.#slide(sid, record, now);
    this.#grown(sid, record, before, now);
    this.#changed?.(sid, record);
    return meta(record);
  }

  incr(sid: string, key: string, by: number, now: number): number | null {
    this.counters.ops++;
    const record = this.#live(sid, now);
    if (!record) return null;
    const was = footprint(record);
    const after = applyIncr(record, key, by, this.#limits);
    this.#slide(sid, record, now);
    this.#grown(sid, record, was, now);
    this.#changed?.(sid, record);
    return after;
  }

  /** Removes the live record under `sid` and hands it over (the first half of a rename across shards). */
  take(sid: string, now: number): SessionRecord | undefined {
    this.counters.ops++;
    const record = this.#live(sid, now);
    if (record) this.#remove(sid, record);
    return record;
  }

  /**
   * Stores a record taken from another table under a new id (the second half of a rename), sliding its
   * idle deadline as any access does. `slide: false` puts a record back unchanged after a failed rename.
   * A renamed session is one a user came back to (regenerate at login): it is not on probation.
   */
  put(sid: string, record: SessionRecord, now: number, slide = true): SessionMeta | null {
    this.counters.ops++;
    if (this.#live(sid, now)) throw new SessionExistsError();
    // Revoked while in transit between two shards: it arrives dead (see user-index.ts).
    if (record.binding !== undefined && this.users.revokedInTransit(record.binding)) return null;
    this.#makeRoom(now, footprint(record), true);
    this.#insert(sid, record);
    if (slide) this.#slide(sid, record, now);
    return meta(record);
  }

  rename(oldSid: string, newSid: string, now: number): SessionMeta | null {
    const record = this.take(oldSid, now);
    if (!record) return null;
    if (this.#live(newSid, now)) {
      this.#insert(oldSid, record);
      throw new SessionExistsError();
    }
    return this.put(newSid, record, now);
  }

  destroy(sid: string, now: number): boolean {
    this.counters.ops++;
    const record = this.#live(sid, now);
    if (!record) return false;
    this.#remove(sid, record, 'destroy');
    return true;
  }

  /**
   * Removes expired sessions, oldest deadline first, until none is due or `budgetMs` has passed (then the
   * caller yields and calls again). Returns how many it removed and whether it got through them all.
   */
  sweep(now: number, budgetMs = Number.POSITIVE_INFINITY): { removed: number; done: boolean } {
    const started = performance.now();
    let removed = 0;
    const outOfTime = () => removed % SWEEP_CLOCK_STRIDE === 0 && performance.now() - started >= budgetMs;
    for (let due = this.#expiry.firstDue(now); due; due = this.#expiry.firstDue(now)) {
      if (due.past) {
        // Every session filed here has expired: remove them from the table only, drop the bucket whole.
        for (let sid = this.#expiry.drainNext(); sid !== undefined; sid = this.#expiry.drainNext()) {
          const record = this.#sessions.get(sid);
          if (record?.bucket !== due.bucket) continue; // stale: already gone, or refiled elsewhere
          this.#forget(sid, record, 'expired');
          this.#changed?.(sid, undefined);
          this.counters.expired++;
          removed++;
          if (outOfTime()) return { removed, done: false };
        }
        this.#expiry.dropBucket(due.bucket);
        continue;
      }
      // The bucket `now` falls in (the last due one, a fraction of a second of deadlines): some still live.
      for (const sid of due.sids) {
        const record = this.#sessions.get(sid);
        if (record?.bucket !== due.bucket) this.#expiry.remove(sid, due.bucket);
        else if (expiresAt(record) <= now) {
          this.#remove(sid, record, 'expired');
          this.counters.expired++;
          removed++;
        }
      }
      break;
    }
    return { removed, done: true };
  }

  /**
   * Live sessions, exactly, without sweeping: the sessions held less those the expiry index knows are due
   * at `now` (whole past buckets by their size, one bucket looked into). It used to sweep every expired
   * session first: 1.5 M of them blocked a shard for ~800 ms.
   */
  count(now: number): number {
    const due = this.#expiry.dueCount(now, (sid, bucket) => {
      const record = this.#sessions.get(sid);
      return record?.bucket === bucket && expiresAt(record) <= now;
    });
    return this.#sessions.size - due;
  }

  /** The record under `sid` if it is alive at `now`; an expired one is removed on the spot. */
  #live(sid: string, now: number): SessionRecord | undefined {
    const record = this.#sessions.get(sid);
    if (!record) return undefined;
    if (expiresAt(record) <= now) {
      this.#remove(sid, record, 'expired');
      this.counters.expired++;
      return undefined;
    }
    return record;
  }

  /** Slides the idle deadline (never past the absolute one) and refiles the record in the expiry index. */
  #slide(sid: string, record: SessionRecord, now: number): void {
    record.idleExpiresAt = now + record.idleTimeoutMs;
    // Refile only when the deadline moved to another bucket: a busy session slides many times per bucket.
    if (this.#expiry.bucketOf(expiresAt(record)) === record.bucket) return;
    this.#expiry.remove(sid, record.bucket);
    record.bucket = this.#expiry.add(sid, expiresAt(record));
  }

  /** After a commit or incr changed a record: its footprint follows; past the byte budget, other sessions
   * make room (never the one being written). */
  #grown(sid: string, record: SessionRecord, before: number, now: number): void {
    this.#eviction.bytes += footprint(record) - before;
    if (this.#eviction.bytes > this.#eviction.maxBytes) this.#makeRoom(now, 0, false, sid);
  }

  /** Makes room for `incoming` bytes (and, if `adding`, one more session) under `maxShardBytes` and
   * `maxSessions`, by the eviction rule (eviction.ts). `except` is never chosen. */
  #makeRoom(now: number, incoming: number, adding: boolean, except?: string): void {
    while (
      (adding && this.#sessions.size >= this.#limits.maxSessions) ||
      this.#eviction.bytes + incoming > this.#eviction.maxBytes
    ) {
      const victim = this.#eviction.victim(now, except);
      if (!victim) return;
      this.#remove(victim.sid, victim.record, victim.expired ? 'expired' : 'capacity');
      if (victim.expired) this.counters.expired++;
      else this.counters.evicted++;
    }
  }

  #insert(sid: string, record: SessionRecord, probation = false): void {
    this.#sessions.set(sid, record);
    this.#eviction.added(sid, record, probation);
    record.bucket = this.#expiry.add(sid, expiresAt(record));
    if (record.binding !== undefined) this.users.added(sid, record);
    this.#changed?.(sid, record);
  }

  /** `reason` is the event of a bound session; undefined when the record only moves (take). */
  #remove(sid: string, record: SessionRecord, reason?: Removal): void {
    this.#forget(sid, record, reason);
    this.#expiry.remove(sid, record.bucket);
    this.#changed?.(sid, undefined);
  }

  /** Removes the record from everything but the expiry index (which the caller deals with). */
  #forget(sid: string, record: SessionRecord, reason?: Removal): void {
    this.#sessions.delete(sid);
    this.#eviction.removed(sid, record);
    if (record.binding !== undefined) this.users.removed(sid, record, reason);
  }
}
