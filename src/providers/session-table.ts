import { NotANumberError, SessionExistsError, SessionTooLargeError } from '../errors.js';
import { ExpiryIndex } from './expiry-index.js';
import { readNumber, writeNumber } from './number-codec.js';
import type { SessionDelta, SessionMeta, SessionPolicy } from './provider.js';
import type { ResolvedLimits } from './provider-options.js';
import { expiresAt, meta, type SessionRecord, type TableChangeListener } from './session-record.js';
import { SidMap } from './sid-map.js';

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
  readonly counters: TableCounters = { ops: 0, expired: 0, evicted: 0, gcSweeps: 0, gcMaxSliceMs: 0 };

  readonly #limits: ResolvedLimits;
  readonly #changed: TableChangeListener | undefined;

  constructor(limits: ResolvedLimits, bucketMs = 100, changed?: TableChangeListener) {
    this.#limits = limits;
    this.#expiry = new ExpiryIndex(bucketMs);
    this.#changed = changed;
  }

  /** Whether the table holds a record under `sid`, alive or not yet swept. Not an operation. */
  has(sid: string): boolean {
    return this.#sessions.get(sid) !== undefined;
  }

  /**
   * Puts back a session read from durable storage (a restart), without telling the change listener: it is
   * stored already. `undefined` forgets the session instead (storage no longer has it). Not an operation.
   */
  restore(sid: string, record: SessionRecord | undefined): void {
    const current = this.#sessions.get(sid);
    if (current) this.#expiry.remove(sid, current.bucket);
    else if (record) this.#makeRoom(Number.NEGATIVE_INFINITY);
    if (!record) {
      this.#sessions.delete(sid);
      return;
    }
    this.#sessions.set(sid, record);
    record.bucket = this.#expiry.add(sid, expiresAt(record));
  }

  /** Sessions held, including expired ones not yet swept. */
  get size(): number {
    return this.#sessions.size;
  }

  init(sid: string, policy: SessionPolicy, initial: SessionDelta | undefined, now: number): SessionMeta {
    this.counters.ops++;
    if (this.#live(sid, now)) throw new SessionExistsError();
    const record: SessionRecord = {
      values: new Map(),
      bytes: 0,
      createdAt: now,
      idleTimeoutMs: policy.idleTimeoutMs,
      idleExpiresAt: now + policy.idleTimeoutMs,
      absoluteExpiresAt: now + policy.absoluteTimeoutMs,
      bucket: 0,
    };
    if (initial) this.#applyDelta(record, initial);
    this.#makeRoom(now);
    this.#insert(sid, record);
    return meta(record);
  }

  /** The live record, or undefined. The caller must not keep or mutate it across operations. */
  read(sid: string, now: number): SessionRecord | undefined {
    this.counters.ops++;
    return this.#live(sid, now);
  }

  commit(sid: string, delta: SessionDelta, now: number): SessionMeta | null {
    this.counters.ops++;
    const record = this.#live(sid, now);
    if (!record) return null;
    this.#applyDelta(record, delta);
    this.#slide(sid, record, now);
    this.#changed?.(sid, record);
    return meta(record);
  }

  incr(sid: string, key: string, by: number, now: number): number | null {
    this.counters.ops++;
    const record = this.#live(sid, now);
    if (!record) return null;
    const current = record.values.get(key);
    const before = current === undefined ? 0 : readNumber(current);
    if (before === undefined) throw new NotANumberError(`incr: the value under "${key}" is not a number`);
    const after = before + by;
    const encoded = writeNumber(after);
    // A number is at most 9 bytes, so only a new key can break a limit; check before changing anything.
    const keyBytes = Buffer.byteLength(key);
    const bytes = record.bytes + encoded.byteLength - (current ? current.byteLength : -keyBytes);
    if (!current && record.values.size >= this.#limits.maxKeys) {
      throw new SessionTooLargeError(`incr: the session already holds ${record.values.size} keys, the limit`);
    }
    if (bytes > this.#limits.maxSessionBytes || encoded.byteLength > this.#limits.maxValueBytes) {
      throw new SessionTooLargeError(`incr: the session would be over its size limit`);
    }
    record.values.set(key, encoded);
    record.bytes = bytes;
    this.#slide(sid, record, now);
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
   */
  put(sid: string, record: SessionRecord, now: number, slide = true): SessionMeta {
    this.counters.ops++;
    if (this.#live(sid, now)) throw new SessionExistsError();
    this.#makeRoom(now);
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
    this.#remove(sid, record);
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
        for (let next = due.cursor.next(); !next.done; next = due.cursor.next()) {
          const record = this.#sessions.get(next.value);
          if (record?.bucket !== due.bucket) continue; // stale: already gone, or refiled elsewhere
          this.#sessions.delete(next.value);
          this.#changed?.(next.value, undefined);
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
          this.#remove(sid, record);
          this.counters.expired++;
          removed++;
        }
      }
      break;
    }
    return { removed, done: true };
  }

  /** Live sessions: sweeps every expired one first, so the answer is exact. */
  count(now: number): number {
    this.sweep(now);
    return this.#sessions.size;
  }

  /** The record under `sid` if it is alive at `now`; an expired one is removed on the spot. */
  #live(sid: string, now: number): SessionRecord | undefined {
    const record = this.#sessions.get(sid);
    if (!record) return undefined;
    if (expiresAt(record) <= now) {
      this.#remove(sid, record);
      this.counters.expired++;
      return undefined;
    }
    return record;
  }

  /** Applies a delta all or nothing: every limit is checked before the record changes. */
  #applyDelta(record: SessionRecord, delta: SessionDelta): void {
    const sets = delta.set ?? [];
    const deletes = delta.delete ?? [];
    let bytes = record.bytes;
    let keys = record.values.size;
    // Work out sizes on a scratch view first, so a rejected delta leaves the record untouched.
    const changed = new Map<string, Uint8Array | undefined>();
    const current = (key: string) => (changed.has(key) ? changed.get(key) : record.values.get(key));
    for (const key of deletes) {
      const old = current(key);
      if (old !== undefined) {
        bytes -= Buffer.byteLength(key) + old.byteLength;
        keys--;
      }
      changed.set(key, undefined);
    }
    for (const [key, value] of sets) {
      if (value.byteLength > this.#limits.maxValueBytes) {
        throw new SessionTooLargeError(
          `the value of "${key}" is ${value.byteLength} bytes, over the limit of ${this.#limits.maxValueBytes}`,
        );
      }
      const old = current(key);
      if (old === undefined) keys++;
      else bytes -= Buffer.byteLength(key) + old.byteLength;
      bytes += Buffer.byteLength(key) + value.byteLength;
      changed.set(key, value);
    }
    if (keys > this.#limits.maxKeys) {
      throw new SessionTooLargeError(
        `the session would hold ${keys} keys, over the limit of ${this.#limits.maxKeys}`,
      );
    }
    if (bytes > this.#limits.maxSessionBytes) {
      throw new SessionTooLargeError(
        `the session would be ${bytes} bytes, over the limit of ${this.#limits.maxSessionBytes}`,
      );
    }
    for (const [key, value] of changed) {
      if (value === undefined) record.values.delete(key);
      // Copy out of the caller's (or the frame's) buffer: a stored value must not pin a whole frame.
      // (Uint8Array.prototype.slice: on a Buffer, .slice() is a view, not a copy.)
      else record.values.set(key, Uint8Array.prototype.slice.call(value));
    }
    record.bytes = bytes;
  }

  /** Slides the idle deadline (never past the absolute one) and refiles the record in the expiry index. */
  #slide(sid: string, record: SessionRecord, now: number): void {
    record.idleExpiresAt = now + record.idleTimeoutMs;
    // Refile only when the deadline moved to another bucket: a busy session slides many times per bucket.
    if (this.#expiry.bucketOf(expiresAt(record)) === record.bucket) return;
    this.#expiry.remove(sid, record.bucket);
    record.bucket = this.#expiry.add(sid, expiresAt(record));
  }

  /** Before a new session goes in: at `maxSessions`, drop the one closest to expiry. */
  #makeRoom(now: number): void {
    while (this.#sessions.size >= this.#limits.maxSessions) {
      const soonest = this.#expiry.soonest();
      if (!soonest) return;
      const record = this.#sessions.get(soonest.sid);
      if (record?.bucket !== soonest.bucket) {
        this.#expiry.remove(soonest.sid, soonest.bucket); // stale entry of a bucket being drained
        continue;
      }
      this.#remove(soonest.sid, record);
      if (expiresAt(record) <= now) this.counters.expired++;
      else this.counters.evicted++;
    }
  }

  #insert(sid: string, record: SessionRecord): void {
    this.#sessions.set(sid, record);
    record.bucket = this.#expiry.add(sid, expiresAt(record));
    this.#changed?.(sid, record);
  }

  #remove(sid: string, record: SessionRecord): void {
    this.#sessions.delete(sid);
    this.#expiry.remove(sid, record.bucket);
    this.#changed?.(sid, undefined);
  }
}
