import { getHeapStatistics } from 'node:v8';
import { resourceLimits } from 'node:worker_threads';
import type { ExpiryIndex } from './expiry-index.js';
import { Probation } from './probation.js';
import { expiresAt, type SessionRecord } from './session-record.js';
import type { SidMap } from './sid-map.js';

/**
 * What a session costs beyond its keys and values, for `maxShardBytes`: the id, the record, its Map, its
 * entries in the id map, the expiry index and the probation segment. Measured (v8 heap growth after a full
 * GC over 200,000 sessions, node 20): ~410 B per session with no key, ~245 B more per small key (its Map
 * entry and its on-heap Uint8Array); rounded up, so the budget errs towards evicting early.
 */
export const SESSION_OVERHEAD_BYTES = 448;
export const KEY_OVERHEAD_BYTES = 256;
/** Share of the thread's old-generation heap limit the sessions may take when `maxShardBytes` is not given. */
const DEFAULT_HEAP_SHARE = 0.5;

/**
 * The default byte budget: half the old-generation limit of this thread (a worker's `resourceLimits`, else
 * V8's heap limit), so the thread evicts long before it could run out of heap.
 */
function defaultMaxBytes(): number {
  const oldGenerationMb = resourceLimits.maxOldGenerationSizeMb ?? 0;
  const heap = oldGenerationMb > 0 ? oldGenerationMb * 1024 * 1024 : getHeapStatistics().heap_size_limit;
  return Math.floor(heap * DEFAULT_HEAP_SHARE);
}

/** The bytes a record is counted for against `maxShardBytes`. */
export function footprint(record: SessionRecord): number {
  return SESSION_OVERHEAD_BYTES + record.bytes + record.values.size * KEY_OVERHEAD_BYTES;
}

/** A session chosen for removal, and whether it had expired (else it is an eviction). */
export interface Victim {
  readonly sid: string;
  readonly record: SessionRecord;
  readonly expired: boolean;
}

/**
 * A table's eviction policy: what it holds in bytes against its budget, which sessions are on probation,
 * and which session goes next when the table is full. The rule: an expired session not yet swept first; then
 * the oldest session on probation (never read since its creation: a flood of new sessions evicts its own
 * kind, not users who came back); then the session closest to expiry.
 */
export class Eviction {
  /** The sum of every held record's footprint (expired ones not yet swept included). */
  bytes = 0;
  readonly maxBytes: number;
  readonly #probation = new Probation();
  readonly #expiry: ExpiryIndex;
  readonly #sessions: SidMap<SessionRecord>;

  constructor(maxShardBytes: number, expiry: ExpiryIndex, sessions: SidMap<SessionRecord>) {
    this.maxBytes = maxShardBytes > 0 ? maxShardBytes : defaultMaxBytes();
    this.#expiry = expiry;
    this.#sessions = sessions;
  }

  /** Sessions on probation. */
  get onProbation(): number {
    return this.#probation.size;
  }

  /** A record went into the table; a new session (`probation`) waits there until it is read again. */
  added(sid: string, record: SessionRecord, probation: boolean): void {
    this.bytes += footprint(record);
    if (probation) record.probation = this.#probation.add(sid);
  }

  /** A record left the table. */
  removed(sid: string, record: SessionRecord): void {
    this.bytes -= footprint(record);
    this.promote(sid, record);
  }

  /** The session was read again (or renamed): off probation. */
  promote(sid: string, record: SessionRecord): void {
    if (!record.probation) return;
    this.#probation.remove(sid, record.probation);
    record.probation = undefined;
  }

  /** The next session to remove by the rule, never `except`; undefined when there is none. */
  victim(now: number, except: string | undefined): Victim | undefined {
    for (;;) {
      const soonest = this.#expiry.soonest(except);
      const soonestRecord = soonest && this.#sessions.get(soonest.sid);
      if (soonest && soonestRecord?.bucket !== soonest.bucket) {
        this.#expiry.remove(soonest.sid, soonest.bucket); // a stale index entry: drop it, look again
        continue;
      }
      if (soonest && soonestRecord && expiresAt(soonestRecord) <= now) {
        return { sid: soonest.sid, record: soonestRecord, expired: true };
      }
      const oldest = this.#probation.oldest(except);
      const record = oldest && this.#sessions.get(oldest.sid);
      if (oldest && record) return { sid: oldest.sid, record, expired: false };
      if (soonest && soonestRecord) return { sid: soonest.sid, record: soonestRecord, expired: false };
      return undefined;
    }
  }
}
