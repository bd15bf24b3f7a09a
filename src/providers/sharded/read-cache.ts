import type { SessionSnapshot } from '../provider.js';
import { countedBytes, ownedValues } from './cache-entry.js';
import { isBarrier, writesSession } from './cache-ops.js';
import { committedValues, incrementedValues, withChange } from './cache-refresh.js';
import { decodeMeta, decodeSnapshot, Op, type WireOp } from './protocol.js';

interface Entry {
  snapshot: SessionSnapshot;
  bytes: number;
  /** Read from the cache since it was filed or last passed over by the eviction hand (second chance). */
  hit: boolean;
  /**
   * The commit or incr in flight on the session, the only operation out on it: while set the entry is not
   * served, and that operation's answer brings the snapshot up to date in place (`#changed`).
   */
  changing: WireOp | undefined;
}

/**
 * The main thread's copy of one shard's hot sessions, so that a read of one is answered without the round trip
 * to the shard thread (two thread wake-ups, ~200 µs at one connection). It is exactly coherent because this
 * process's main thread sends every operation on these sessions, down one ordered channel, and sees every
 * answer in that order (see shard-link.ts, which calls `issued` / `answered` / `settled` / `removed`):
 * - a snapshot is filed only from a shard's read answer, and only if no operation that could change that
 *   session was sent after the read (answers come in order, so one still unanswered was sent later);
 * - an operation on a session stops its snapshot being served when it is queued, before it is even sent: a
 *   later read goes to the shard, behind it (a commit not awaited is still seen by the next read, as without
 *   the cache). Most operations drop the snapshot; a commit or incr keeps it, marked as changing, and its
 *   answer brings it up to date with the change applied (cache-refresh.ts), if nothing else was sent for the
 *   session meanwhile (a second operation drops it): the snapshot held the shard's state before the change, and
 *   the change is deterministic (the answer gives the new deadlines and the sum). This is what makes the read
 *   that starts the next request of a client that just wrote a hit, without taking the entry out of its Map and
 *   putting it back on every write;
 * - an operation that may change sessions it does not name (gc, revoke, revokeUser) empties the cache and
 *   blocks filing while it is out; sessions a shard removes as a side effect of an operation (eviction under
 *   the limits, expiry found on access) are listed in that frame's answer and dropped before anyone is told;
 * - a snapshot is served only while alive by the provider's clock and by the latest time the shard's own GC
 *   tick can have reached (it runs on the shard's clock, see `sent`), so what that tick sweeps is never served;
 * - a dead, stuck or terminated shard's snapshots are all dropped (`clear`).
 * A miss is always safe (the read goes to the shard): every doubt is resolved by dropping.
 */
export class ReadCache {
  readonly #entries = new Map<string, Entry>();
  /** Operations on a session queued or in flight, by sid: its answer from a read sent earlier is not filed. */
  readonly #pending = new Map<string, number>();
  #barriers = 0;
  #bytes = 0;
  #hits = 0;
  readonly #maxBytes: number;
  readonly #now: () => number;
  /** Whether the shard runs a GC tick (then `#clockLead` bounds how far its clock can be). */
  readonly #gcTicks: boolean;
  /**
   * The largest `stamp - Date.now()` of the frames sent: the shard's GC tick runs on `Date.now() + skew`, its
   * skew being a frame's stamp minus the shard's Date.now() when it got the frame (later than when it was
   * sent), so its clock is at most `Date.now() + #clockLead`. With the default clock this is ≤ 0.
   */
  #clockLead = Number.NEGATIVE_INFINITY;

  constructor(maxBytes: number, now: () => number, gcTicks: boolean) {
    this.#maxBytes = maxBytes;
    this.#now = now;
    this.#gcTicks = gcTicks;
  }

  /** Bytes held, as counted against the budget. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sessions held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Reads answered from the cache so far. */
  get hits(): number {
    return this.#hits;
  }

  /** The session's snapshot if the cache holds it alive, else undefined (ask the shard). Do not mutate it. */
  get(sid: string): SessionSnapshot | undefined {
    const entry = this.#entries.get(sid);
    if (entry === undefined || entry.changing !== undefined) return undefined;
    const expiresAt = entry.snapshot.expiresAt;
    // Expired (or maybe swept by the shard's tick): the shard must see this read, to remove the session
    // on access and emit its event as it would without the cache.
    if (expiresAt <= this.#now() || (this.#gcTicks && expiresAt <= Date.now() + this.#clockLead)) {
      this.#drop(sid, entry);
      return undefined;
    }
    entry.hit = true;
    this.#hits++;
    return entry.snapshot;
  }

  /** An operation was queued for the shard (it will be sent, or failed, in queue order). */
  issued(op: WireOp): void {
    if (writesSession(op)) {
      this.#issuedOn(op[1] as string, op);
      if (op[0] === Op.Rename) this.#issuedOn(op[2] as string, op);
    } else if (isBarrier(op)) {
      this.#barriers++;
      this.#clearEntries();
    }
  }

  #issuedOn(sid: string, op: WireOp): void {
    const entry = this.#entries.get(sid);
    // A held snapshot means no operation on the session is out but the one it is changing with, if any.
    if (entry !== undefined) {
      if (entry.changing === undefined && (op[0] === Op.Commit || op[0] === Op.Incr)) entry.changing = op;
      else this.#drop(sid, entry);
    }
    this.#pending.set(sid, (this.#pending.get(sid) ?? 0) + 1);
  }

  /** A frame stamped `stamp` by the provider's clock leaves for the shard. */
  sent(stamp: number): void {
    const lead = stamp - Date.now();
    if (lead > this.#clockLead) this.#clockLead = lead;
  }

  /**
   * The shard answered `op` with `value`. Returns what the caller gets: for a read, the decoded snapshot (the
   * cached copy when filed).
   */
  answered(op: WireOp, value: unknown): unknown {
    if (op[0] === Op.Commit || op[0] === Op.Incr) return this.#changed(op, value);
    if (op[0] !== Op.Read) {
      this.settled(op);
      return value;
    }
    const snapshot = decodeSnapshot(value);
    const sid = op[1] as string;
    if (snapshot === null || this.#barriers > 0 || this.#pending.has(sid) || this.#maxBytes === 0) {
      return snapshot;
    }
    return this.#fileCopy(sid, snapshot);
  }

  /**
   * A commit or incr answered: the snapshot it marked as changing is brought up to date in place and served
   * again, if nothing else touched the session meanwhile. With a cache, an incr's answer is
   * `[sum, idleExpiresAt]`.
   */
  #changed(op: WireOp, value: unknown): unknown {
    const sid = op[1] as string;
    const incr = op[0] === Op.Incr && Array.isArray(value);
    const result = incr ? value[0] : value;
    this.#release(sid);
    const entry = this.#entries.get(sid);
    if (entry === undefined || entry.changing !== op) return result;
    const { snapshot } = entry;
    let changed: SessionSnapshot | undefined;
    // Another operation on the session, or a barrier, would have dropped the entry: these are belts and braces.
    if (result !== null && this.#barriers === 0 && !this.#pending.has(sid)) {
      if (incr) {
        const values = incrementedValues(snapshot.values, op[2] as string, result as number);
        const { createdAt, absoluteExpiresAt } = snapshot;
        if (values) changed = withChange(snapshot, createdAt, value[1], absoluteExpiresAt, values);
      } else {
        const values = committedValues(snapshot.values, op[2] as unknown[], op[3] as string[]);
        const meta = decodeMeta(value);
        if (values && meta) {
          const { createdAt, idleExpiresAt, absoluteExpiresAt } = meta;
          const owned = ownedValues(values);
          changed = withChange(snapshot, createdAt, idleExpiresAt, absoluteExpiresAt, owned);
        }
      }
    }
    if (changed === undefined) this.#drop(sid, entry);
    else this.#refile(sid, entry, changed);
    return result;
  }

  /** The operation is done with, answered or failed: it no longer stands between a read and the cache. */
  settled(op: WireOp): void {
    if (writesSession(op)) {
      this.#settledOn(op[1] as string, op);
      if (op[0] === Op.Rename) this.#settledOn(op[2] as string, op);
    } else if (isBarrier(op)) this.#barriers--;
  }

  #settledOn(sid: string, op: WireOp): void {
    // Settled without the answer that would bring it up to date (a failure): the snapshot is no longer known.
    const entry = this.#entries.get(sid);
    if (entry !== undefined && entry.changing === op) this.#drop(sid, entry);
    this.#release(sid);
  }

  #release(sid: string): void {
    const left = (this.#pending.get(sid) ?? 1) - 1;
    if (left === 0) this.#pending.delete(sid);
    else this.#pending.set(sid, left);
  }

  /** Sessions the shard removed while applying a frame (listed in its answer). */
  removed(sids: readonly unknown[]): void {
    for (const sid of sids as string[]) {
      const entry = this.#entries.get(sid);
      if (entry !== undefined) this.#drop(sid, entry);
    }
  }

  /** The shard's thread is gone (crash, watchdog, terminate, close): what it held is no longer known. */
  clear(): void {
    this.#clearEntries();
  }

  #clearEntries(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  /**
   * Files a copy of the snapshot whose values live in one buffer of their own (`ownedValues`). Past the
   * budget, the eviction hand goes round the oldest entries, sparing once each one read since (CLOCK, second
   * chance).
   */
  #fileCopy(sid: string, snapshot: SessionSnapshot): SessionSnapshot {
    const bytes = countedBytes(snapshot);
    // A session larger than half the budget would push out every other one: not cached.
    if (bytes > this.#maxBytes / 2) return snapshot;
    const { createdAt, idleExpiresAt, absoluteExpiresAt } = snapshot;
    const values = ownedValues(snapshot.values);
    const owned = withChange(snapshot, createdAt, idleExpiresAt, absoluteExpiresAt, values);
    this.#fileOwned(sid, owned, bytes);
    return owned;
  }

  /**
   * Files the snapshot as it is: its values keep nothing else alive (an incr's: the cached copy's and the sum's
   * bytes). Copying them again cost an incr ~10 µs more on the main thread (a buffer and a view per value).
   */
  #fileOwned(sid: string, snapshot: SessionSnapshot, bytes = countedBytes(snapshot)): void {
    if (bytes > this.#maxBytes / 2) return;
    // Two reads of one session in flight both file it: the second replaces the first, counted once.
    const old = this.#entries.get(sid);
    if (old !== undefined) this.#drop(sid, old);
    this.#entries.set(sid, { snapshot, bytes, hit: false, changing: undefined });
    this.#bytes += bytes;
    this.#evictPastBudget();
  }

  /** The entry's change was answered: it holds the changed snapshot and is served again, where it stands. */
  #refile(sid: string, entry: Entry, snapshot: SessionSnapshot): void {
    const bytes = countedBytes(snapshot);
    if (bytes > this.#maxBytes / 2) {
      this.#drop(sid, entry);
      return;
    }
    this.#bytes += bytes - entry.bytes;
    entry.snapshot = snapshot;
    entry.bytes = bytes;
    entry.changing = undefined;
    this.#evictPastBudget();
  }

  #evictPastBudget(): void {
    // Checked before the loop starts: an iterator over a Map that sessions leave and rejoin (a read's filing,
    // the hand's second chances) first steps over the slots they left, up to the whole table at each filing.
    if (this.#bytes <= this.#maxBytes) return;
    // Each pass over an entry either evicts it or clears its hit bit, so this ends within two rounds.
    for (const [sid, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) return;
      this.#entries.delete(sid);
      if (entry.hit) {
        entry.hit = false;
        this.#entries.set(sid, entry);
      } else this.#bytes -= entry.bytes;
    }
  }

  #drop(sid: string, entry: Entry): void {
    this.#entries.delete(sid);
    this.#bytes -= entry.bytes;
  }
}
