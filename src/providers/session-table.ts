import { SessionExistsError } from '../errors.js';
import { applyDelta, applyIncr } from './apply-delta.js';
import { footprint } from './eviction.js';
import { type SweptTable, sweepExpired } from './expiry-sweep.js';
import { expiresAt, idleTimeoutMs, withProbation, withTimes } from './packed-record.js';
import type { SessionDelta, SessionMeta, SessionPolicy } from './provider.js';
import type { ResolvedLimits } from './provider-options.js';
import {
  extrasOf,
  meta,
  newRecord,
  type RecordExtras,
  type SessionRecord,
  slid,
  type TableChangeListener,
} from './session-record.js';
import { TableRecords } from './table-records.js';
import { type Removal, UserIndex } from './user-index.js';

/** Counters a table keeps about itself; the GC tick adds its own. */
export interface TableCounters {
  ops: number;
  expired: number;
  evicted: number;
  gcSweeps: number;
  gcMaxSliceMs: number;
}

/**
 * The synchronous heart of every built-in store: a Map of sessions with limits, an expiry index and
 * incremental GC. A session is one packed string (packed-record.ts) under its id; the few with a binding or
 * their own timeouts also have an entry in a side map (`RecordExtras`). The 'memory' provider wraps one table; each shard worker of 'sharded' owns one. Keeping
 * one implementation is what makes both providers answer the same operations with the same results.
 * Every method takes `now` from its caller, so time is controllable in tests. Arguments are trusted: the
 * providers check them at their boundary (`contract-checks.ts`) before they reach a table.
 */
export class SessionTable {
  readonly #records: TableRecords;
  readonly #swept: SweptTable;
  readonly counters: TableCounters = { ops: 0, expired: 0, evicted: 0, gcSweeps: 0, gcMaxSliceMs: 0 };
  /** Bound sessions by user, and their events (issue 13): see user-index.ts. */
  readonly users: UserIndex;

  readonly #limits: ResolvedLimits;
  /** Told of every record written or removed (a durable shard persists them); not of `restore`. */
  readonly #changed: TableChangeListener | undefined;

  constructor(limits: ResolvedLimits, bucketMs = 100, changed?: TableChangeListener) {
    this.#limits = limits;
    this.#records = new TableRecords(limits.maxShardBytes, bucketMs);
    this.#changed = changed;
    this.users = new UserIndex({
      live: (sid, now) => this.#live(sid, now),
      extras: (sid) => this.#records.extras(sid),
      setBinding: (sid, packed, binding) => {
        this.#records.setExtras(sid, packed, { ...this.#records.extras(sid), binding });
        this.#changed?.(sid, this.#records.record(sid, packed));
      },
      remove: (sid, packed, reason) => this.#remove(sid, packed, reason),
    });
    this.#swept = {
      expiry: this.#records.expiry,
      filed: (sid, bucket) => this.#records.filed(sid, bucket),
      expire: (sid, packed) => this.#expired(sid, packed),
      expiresAt,
    };
  }

  /** Puts back (or, `undefined`, forgets) a session read from durable storage, untold to the listener and
   * not on probation: it is stored already and outlived a restart. Not an operation. */
  restore(sid: string, record: SessionRecord | undefined): void {
    const current = this.#records.get(sid);
    if (current !== undefined) this.#unfile(sid, current, undefined);
    else if (record) this.#makeRoom(Number.NEGATIVE_INFINITY, footprint(record.packed, record), true);
    if (record) this.#file(sid, withProbation(record.packed, false), extrasOf(record));
  }

  /** Sessions held, including expired ones not yet swept. */
  get size(): number {
    return this.#records.size;
  }

  /** Whether a record is held under `sid`, expired or not (for tests and diagnostics: no side effect). */
  holds(sid: string): boolean {
    return this.#records.get(sid) !== undefined;
  }

  /** Bytes held, as counted against `maxShardBytes` (see `SESSION_OVERHEAD_BYTES`). */
  get bytes(): number {
    return this.#records.eviction.bytes;
  }

  /** The byte budget in force: `maxShardBytes`, or its default worked out from this thread's heap limit. */
  get maxBytes(): number {
    return this.#records.eviction.maxBytes;
  }

  /** Buckets of the expiry index (diagnostics: it must shrink back as sessions expire). */
  get expiryBuckets(): number {
    return this.#records.expiry.bucketCount;
  }

  /** Ids the expiry index holds, stale ones included (diagnostics: at most about twice the sessions). */
  get expiryIdsHeld(): number {
    return this.#records.expiry.idsHeld;
  }

  /** Sessions on probation: never read since their creation, evicted first. */
  get onProbation(): number {
    return this.#records.eviction.onProbation;
  }

  /** Ids in the probation queue, stale ones included (diagnostics: it must shrink back). */
  get probationQueued(): number {
    return this.#records.eviction.probationQueued;
  }

  init(sid: string, policy: SessionPolicy, initial: SessionDelta | undefined, now: number): SessionMeta {
    this.counters.ops++;
    if (this.#live(sid, now) !== undefined) throw new SessionExistsError();
    let packed = newRecord(policy, now); // on probation until a later request reads it: see eviction.ts
    if (initial) packed = applyDelta(packed, initial, this.#limits, now + policy.idleTimeoutMs);
    this.#makeRoom(now, footprint(packed, undefined), true);
    this.#insert(sid, packed, undefined);
    return meta(packed);
  }

  /**
   * The live session's packed record (packed-record.ts; `snapshotOf` in session-record.ts decodes it), or
   * undefined; its binding and flags are `extras(sid)`. A read is what a later request of the same client
   * does first, so it takes the session off probation.
   */
  read(sid: string, now: number): string | undefined {
    this.counters.ops++;
    const packed = this.#live(sid, now);
    return packed === undefined ? undefined : this.#records.promote(sid, packed);
  }

  /** The binding and "own timeouts" flag of the session under `sid`, if it has any. */
  extras(sid: string): RecordExtras | undefined {
    return this.#records.extras(sid);
  }

  commit(sid: string, delta: SessionDelta, now: number): SessionMeta | null {
    this.counters.ops++;
    const packed = this.#live(sid, now);
    if (packed === undefined) return null;
    const next = applyDelta(packed, delta, this.#limits, now + idleTimeoutMs(packed));
    this.#replace(sid, packed, next, now);
    return meta(next);
  }

  incr(sid: string, key: string, by: number, now: number): number | null {
    this.counters.ops++;
    const packed = this.#live(sid, now);
    if (packed === undefined) return null;
    const { packed: next, value } = applyIncr(packed, key, by, this.#limits, now + idleTimeoutMs(packed));
    this.#replace(sid, packed, next, now);
    return value;
  }

  /** Removes the live record under `sid` and hands it over (the first half of a rename across shards). */
  take(sid: string, now: number): SessionRecord | undefined {
    this.counters.ops++;
    const packed = this.#live(sid, now);
    if (packed === undefined) return undefined;
    const record = this.#records.record(sid, packed);
    this.#remove(sid, packed);
    return record;
  }

  /**
   * Stores a record taken from another table under a new id (the second half of a rename), sliding its
   * idle deadline as any access does. `slide: false` puts a record back unchanged after a failed rename.
   * A renamed session is one a user came back to (regenerate at login): it is not on probation.
   */
  put(sid: string, record: SessionRecord, now: number, slide = true): SessionMeta | null {
    this.counters.ops++;
    if (this.#live(sid, now) !== undefined) throw new SessionExistsError();
    // Revoked while in transit between two shards: it arrives dead (see user-index.ts).
    if (record.binding !== undefined && this.users.revokedInTransit(record.binding)) return null;
    let packed = withProbation(record.packed, false);
    if (slide) packed = withTimes(packed, slid(packed, now));
    this.#makeRoom(now, footprint(packed, record), true);
    this.#insert(sid, packed, extrasOf(record));
    return meta(packed);
  }

  rename(oldSid: string, newSid: string, now: number): SessionMeta | null {
    const record = this.take(oldSid, now);
    if (!record) return null;
    if (this.#live(newSid, now) !== undefined) {
      this.#insert(oldSid, withProbation(record.packed, false), extrasOf(record));
      throw new SessionExistsError();
    }
    return this.put(newSid, record, now);
  }

  destroy(sid: string, now: number): boolean {
    this.counters.ops++;
    const packed = this.#live(sid, now);
    if (packed === undefined) return false;
    this.#remove(sid, packed, 'destroy');
    return true;
  }

  /** Removes expired sessions for at most `budgetMs` (expiry-sweep.ts); again until `done`. */
  sweep(now: number, budgetMs = Number.POSITIVE_INFINITY): { removed: number; done: boolean } {
    return sweepExpired(this.#swept, now, budgetMs);
  }

  /**
   * Live sessions, exactly, without sweeping: the sessions held less those the expiry index knows are due
   * at `now` (whole past buckets by their size, one bucket looked into). It used to sweep every expired
   * session first: 1.5 M of them blocked a shard for ~800 ms.
   */
  count(now: number): number {
    const due = this.#records.expiry.dueCount(now, (sid, bucket) => {
      const packed = this.#records.filed(sid, bucket);
      return packed !== undefined && expiresAt(packed) <= now;
    });
    return this.#records.size - due;
  }

  /** The packed record under `sid` if it is alive at `now`; an expired one is removed on the spot. */
  #live(sid: string, now: number): string | undefined {
    const packed = this.#records.get(sid);
    if (packed === undefined) return undefined;
    if (expiresAt(packed) <= now) {
      this.#expired(sid, packed);
      return undefined;
    }
    return packed;
  }

  /** A commit or incr wrote `next` over `packed`; past the byte budget other sessions make room (never this one). */
  #replace(sid: string, packed: string, next: string, now: number): void {
    this.#records.replace(sid, packed, next);
    if (this.bytes > this.maxBytes) this.#makeRoom(now, 0, false, sid);
    this.#changed?.(sid, this.#records.record(sid, next));
  }

  /** Makes room for `incoming` bytes (and, if `adding`, one more session) under `maxShardBytes` and
   * `maxSessions`, by the eviction rule (eviction.ts). `except` is never chosen. */
  #makeRoom(now: number, incoming: number, adding: boolean, except?: string): void {
    while ((adding && this.size >= this.#limits.maxSessions) || this.bytes + incoming > this.maxBytes) {
      const victim = this.#records.victim(now, except);
      if (!victim) return;
      if (victim.expired) this.#expired(victim.sid, victim.packed);
      else {
        this.#remove(victim.sid, victim.packed, 'capacity');
        this.counters.evicted++;
      }
    }
  }

  #insert(sid: string, packed: string, extras: RecordExtras | undefined): void {
    this.#file(sid, packed, extras);
    this.#changed?.(sid, this.#records.record(sid, packed));
  }

  #file(sid: string, packed: string, extras: RecordExtras | undefined): void {
    this.#records.file(sid, packed, extras);
    if (extras?.binding) this.users.added(sid, extras.binding);
  }

  /** An expired session goes. */
  #expired(sid: string, packed: string): void {
    this.#unfile(sid, packed, 'expired');
    this.#changed?.(sid, undefined);
    this.counters.expired++;
  }

  /** `reason` is the event of a bound session; undefined when the record only moves (take). */
  #remove(sid: string, packed: string, reason?: Removal): void {
    this.#unfile(sid, packed, reason);
    this.#changed?.(sid, undefined);
  }

  #unfile(sid: string, packed: string, reason: Removal): void {
    const binding = this.#records.unfile(sid, packed)?.binding;
    if (binding) this.users.removed(sid, binding, packed, reason);
  }
}
