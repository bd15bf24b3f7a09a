import type { ProbationChunk } from './probation.js';
import type { SessionBinding, SessionMeta, SessionPolicy } from './provider.js';

/** One stored session. Values stay encoded: a store never decodes them (except for `incr`). */
export interface SessionRecord {
  values: Map<string, Uint8Array>;
  /** Bytes of keys plus encoded values, kept up to date to enforce `maxSessionBytes` in O(changed keys). */
  bytes: number;
  readonly createdAt: number;
  /** The idle timeout; `setTimeouts` may change it, and the absolute deadline. */
  idleTimeoutMs: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  /** The expiry-index bucket the record is filed under. */
  bucket: number;
  /** While the session was never read since its creation: its chunk of the table's probation segment. */
  probation: ProbationChunk | undefined;
  /**
   * The user the session is bound to. Never set on an unbound record (not even to undefined): unbound records
   * keep their shape and size, and the table's only extra work for them is reading this absent property.
   */
  binding?: Binding;
  /** Set (never to false) once `setTimeouts` gave the session its own timeouts: reads then report the idle one. */
  retimed?: true;
}

/** A binding as the table keeps it: the contract's, plus when it was applied (revocations compare with it). */
export interface Binding extends SessionBinding {
  readonly boundAt: number;
}

/**
 * Told of every stored change, so a durable shard can write it through: `record` is the session as it now
 * is (store it), `undefined` means the session is gone (delete it). Called synchronously, possibly several
 * times per session per operation; the listener keeps the last state.
 */
export type TableChangeListener = (sid: string, record: SessionRecord | undefined) => void;

/** A new, empty record created at `now` under `policy` (not filed anywhere yet). */
export function newRecord(policy: SessionPolicy, now: number): SessionRecord {
  return {
    values: new Map(),
    bytes: 0,
    createdAt: now,
    idleTimeoutMs: policy.idleTimeoutMs,
    idleExpiresAt: now + policy.idleTimeoutMs,
    absoluteExpiresAt: now + policy.absoluteTimeoutMs,
    bucket: 0,
    probation: undefined,
  };
}

/** When the record dies: the earlier of its idle and absolute deadlines. */
export function expiresAt(record: SessionRecord): number {
  return Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
}

/** The timestamps the contract reports for a record. */
export function meta(record: SessionRecord): SessionMeta {
  return {
    createdAt: record.createdAt,
    idleExpiresAt: record.idleExpiresAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    expiresAt: expiresAt(record),
  };
}

/** Bytes a record's values count against `maxSessionBytes`: every key (UTF-8) plus its encoded value. */
export function valueBytes(values: ReadonlyMap<string, Uint8Array>): number {
  let bytes = 0;
  for (const [key, value] of values) bytes += Buffer.byteLength(key) + value.byteLength;
  return bytes;
}
