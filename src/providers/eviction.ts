import { getHeapStatistics } from 'node:v8';
import { resourceLimits } from 'node:worker_threads';
import type { ExpiryIndex } from './expiry-index.js';
import { expiresAt, onProbation } from './packed-record.js';
import { Probation } from './probation.js';
import type { RecordExtras } from './session-record.js';
import type { SidMap } from './sid-map.js';

/**
 * What a session costs beyond its packed record (the id, its id-map entry, its expiry-index and probation
 * entries), for `maxShardBytes`; a record counts its length on top (packed-record.ts), which includes its keys
 * and values. Measured (v8 heap growth after a full GC over 1,000,000 sessions of two small keys, node 20):
 * see bench/sessions-in-memory.ts (`table`). Rounded up, so the budget errs towards evicting early.
 */
export const SESSION_OVERHEAD_BYTES = 216;
/** What a binding costs beyond its strings' characters (its object, the extras entry, the user index's). */
export const BINDING_OVERHEAD_BYTES = 256;
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

/** The bytes a session is counted for against `maxShardBytes`: its record, and its binding if any. */
export function footprint(packed: string, extras: RecordExtras | undefined): number {
  const binding = extras?.binding;
  if (!binding) return SESSION_OVERHEAD_BYTES + packed.length;
  const strings = binding.userId.length + binding.handle.length + (binding.label?.length ?? 0);
  return SESSION_OVERHEAD_BYTES + packed.length + BINDING_OVERHEAD_BYTES + strings;
}

/** A session chosen for removal, and whether it had expired (else it is an eviction). */
export interface Victim {
  readonly sid: string;
  readonly packed: string;
  readonly expired: boolean;
}

/**
 * A table's eviction policy: what it holds in bytes against its budget, which sessions are on probation,
 * and which session goes next when the table is full. The rule: an expired session not yet swept first; then
 * the oldest session on probation (never read since its creation: a flood of new sessions evicts its own
 * kind, not users who came back); then the session closest to expiry.
 */
export class Eviction {
  /** The sum of every held session's footprint (expired ones not yet swept included). */
  bytes = 0;
  readonly maxBytes: number;
  readonly #probation: Probation;
  readonly #expiry: ExpiryIndex;
  readonly #sessions: SidMap<string>;

  constructor(maxShardBytes: number, expiry: ExpiryIndex, sessions: SidMap<string>) {
    this.maxBytes = maxShardBytes > 0 ? maxShardBytes : defaultMaxBytes();
    this.#expiry = expiry;
    this.#sessions = sessions;
    this.#probation = new Probation((sid) => {
      const packed = sessions.get(sid);
      return packed !== undefined && onProbation(packed);
    });
  }

  /** Sessions on probation. */
  get onProbation(): number {
    return this.#probation.size;
  }

  /** Ids in the probation queue, stale ones included (diagnostics). */
  get probationQueued(): number {
    return this.#probation.queued;
  }

  /** A session went into the table; one on probation (its record flagged) waits there until it is read again. */
  added(sid: string, packed: string, extras: RecordExtras | undefined): void {
    this.bytes += footprint(packed, extras);
    if (onProbation(packed)) this.#probation.add(sid);
  }

  /** A session left the table. */
  removed(packed: string, extras: RecordExtras | undefined): void {
    this.bytes -= footprint(packed, extras);
    if (onProbation(packed)) this.#probation.left();
  }

  /** A session on probation was read again: the table clears its record's flag. */
  promoted(): void {
    this.#probation.left();
  }

  /** The next session to remove by the rule, never `except`; undefined when there is none. */
  victim(now: number, except: string | undefined): Victim | undefined {
    const soonest = this.#expiry.soonest(except); // a filed id: its record is held
    const soonestRecord = soonest && (this.#sessions.get(soonest.sid) as string);
    if (soonest && soonestRecord && expiresAt(soonestRecord) <= now) {
      return { sid: soonest.sid, packed: soonestRecord, expired: true };
    }
    const oldest = this.#probation.oldest(except);
    const packed = oldest === undefined ? undefined : this.#sessions.get(oldest);
    if (oldest !== undefined && packed !== undefined) return { sid: oldest, packed, expired: false };
    if (soonest && soonestRecord) return { sid: soonest.sid, packed: soonestRecord, expired: false };
    return undefined;
  }
}
