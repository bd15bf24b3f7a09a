import {
  absoluteExpiresAt,
  createdAt,
  expiresAt,
  idleExpiresAt,
  idleTimeoutMs,
  MAX_HEAD_BYTES,
  PROBATION_FLAG,
  type RecordTimes,
  scratchOf,
  timesOf,
  unpackValues,
  writeHead,
} from './packed-record.js';
import type { SessionBinding, SessionMeta, SessionPolicy, SessionSnapshot } from './provider.js';

/** A binding as the table keeps it: the contract's, plus when it was applied (revocations compare with it). */
export interface Binding extends SessionBinding {
  readonly boundAt: number;
}

/**
 * What a session has beyond its packed form (packed-record.ts): kept by the table in a side map, only for the
 * sessions that have some, so an unbound session costs nothing here.
 */
export interface RecordExtras {
  /** The user the session is bound to. */
  readonly binding?: Binding;
  /** Set (never to false) once `setTimeouts` gave the session its own timeouts: reads then report the idle one. */
  readonly retimed?: true;
}

/**
 * A session as it leaves or enters a table (take, put, restore, the change listener): its packed form (values
 * stay encoded: a store never decodes them, except for `incr`) and its extras.
 */
export interface SessionRecord extends RecordExtras {
  readonly packed: string;
}

/**
 * Told of every stored change, so a durable shard can write it through: `record` is the session as it now
 * is (store it), `undefined` means the session is gone (delete it). Called synchronously, possibly several
 * times per session per operation; the listener keeps the last state.
 */
export type TableChangeListener = (sid: string, record: SessionRecord | undefined) => void;

/** A new, empty packed record created at `now` under `policy`, on probation (eviction.ts). */
export function newRecord(policy: SessionPolicy, now: number): string {
  const into = scratchOf(MAX_HEAD_BYTES);
  const head = writeHead(into, 0, PROBATION_FLAG, {
    createdAt: now,
    idleTimeoutMs: policy.idleTimeoutMs,
    idleExpiresAt: now + policy.idleTimeoutMs,
    absoluteExpiresAt: now + policy.absoluteTimeoutMs,
  });
  return into.toString('latin1', 0, head);
}

/** The timestamps the contract reports for a record. */
export function meta(packed: string): SessionMeta {
  return {
    createdAt: createdAt(packed),
    idleExpiresAt: idleExpiresAt(packed),
    absoluteExpiresAt: absoluteExpiresAt(packed),
    expiresAt: expiresAt(packed),
  };
}

/** A record's snapshot for a reader: its meta, its values decoded out of the record, its extras. */
export function snapshotOf(packed: string, extras: RecordExtras | undefined): SessionSnapshot {
  // Built as one object (not `meta()` spread into another): the memory provider does this for every request.
  const snapshot: SessionSnapshot = {
    createdAt: createdAt(packed),
    idleExpiresAt: idleExpiresAt(packed),
    absoluteExpiresAt: absoluteExpiresAt(packed),
    expiresAt: expiresAt(packed),
    values: unpackValues(packed),
  };
  if (extras === undefined) return snapshot;
  const { binding } = extras;
  return {
    ...snapshot,
    ...(extras.retimed ? { idleTimeoutMs: idleTimeoutMs(packed) } : {}),
    ...(binding ? { binding: publicBinding(binding) } : {}),
  };
}

/** The contract's view of a binding (without when it was applied). */
export function publicBinding(binding: Binding): SessionBinding {
  const { userId, handle, label } = binding;
  return label === undefined ? { userId, handle } : { userId, handle, label };
}

/** A record's times with its idle deadline slid to `now` (never past the absolute one: expiresAt is the min). */
export function slid(packed: string, now: number): RecordTimes {
  const times = timesOf(packed);
  return { ...times, idleExpiresAt: now + times.idleTimeoutMs };
}

/** The extras a record carries, or undefined when it has none (the table keeps no entry then). */
export function extrasOf(record: SessionRecord): RecordExtras | undefined {
  if (record.binding === undefined && record.retimed === undefined) return undefined;
  return record.binding === undefined
    ? { retimed: true }
    : record.retimed
      ? { binding: record.binding, retimed: true }
      : { binding: record.binding };
}
