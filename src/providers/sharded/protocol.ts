import { Packr } from 'msgpackr';
import { SessionError } from '../../errors.js';
import type { SessionDelta, SessionMeta, SessionSnapshot } from '../provider.js';
import { type SessionRecord, valueBytes } from '../session-record.js';

/**
 * The wire format between the router (main thread) and a shard worker. A request frame is one msgpackr
 * message `[now, op, op, …]` carrying every operation for that shard from one event-loop turn, stamped
 * with the router's clock; the answer frame is `[status, value, status, value, …]`, one pair per op in the
 * same order, so no op needs an id. Frames travel as transferred ArrayBuffers (moved, not copied).
 * Only arrays, strings, numbers and binary cross: no objects, so no record structures to share.
 * Session values travel flat, `…, key, bytes, key, bytes`, after a fixed head of numbers.
 */
export const Op = {
  Init: 1,
  Read: 2,
  Commit: 3,
  Incr: 4,
  Rename: 5,
  Take: 6,
  Put: 7,
  Destroy: 8,
  /** `[Gc, now, budgetMs]` → `[removed, done]`: one slice of a sweep. */
  Gc: 9,
  Count: 10,
  Stats: 11,
  /** Fault injection: the shard stops answering (`[Hang, 0]` drops frames, `[Hang, 1]` spins forever). */
  Hang: 12,
  /** Ends the thread after this frame's commit, unanswered: a crash between two LMDB transactions. */
  Exit: 13,
} as const;

/** One operation on the wire: its code, then its arguments. */
export type WireOp = readonly unknown[];

/** An answer's status: the value is the result, or `[code, message]` of a SessionError. */
export const OK = 0;
export const FAILED = 1;

const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * Encodes a frame into an ArrayBuffer of its own, ready to transfer. msgpackr packs into a reused scratch
 * buffer; transferring that would detach it, so the frame is copied out once, here.
 */
export function encodeFrame(frame: readonly unknown[]): ArrayBuffer {
  const packed = packr.pack(frame);
  const buffer = new ArrayBuffer(packed.byteLength);
  new Uint8Array(buffer).set(packed);
  return buffer;
}

export function decodeFrame(buffer: ArrayBuffer): unknown[] {
  const frame = packr.unpack(new Uint8Array(buffer));
  if (!Array.isArray(frame)) throw new SessionError('ERR_MALFORMED_FRAME', 'malformed frame: not an array');
  return frame;
}

/** Appends `key, bytes` pairs to `wire`, flat. */
function flatten(wire: unknown[], entries: Iterable<readonly [string, Uint8Array]>): unknown[] {
  for (const [key, value] of entries) wire.push(key, value);
  return wire;
}

/** The `key, bytes` pairs of `wire` from index `from` on. Reads in place: this runs for every request. */
function unflatten(wire: readonly unknown[], from: number): Map<string, Uint8Array> {
  const values = new Map<string, Uint8Array>();
  for (let i = from; i + 1 < wire.length; i += 2) values.set(wire[i] as string, wire[i + 1] as Uint8Array);
  return values;
}

/** A delta on the wire: `[flatSets, deletes]`. */
export function encodeDelta(delta: SessionDelta | undefined): [unknown[], readonly string[]] {
  return [flatten([], delta?.set ?? []), delta?.delete ?? []];
}

/** Rebuilds a delta in the worker. The router checked its shape before sending it. */
export function decodeDelta(sets: unknown, deletes: unknown): SessionDelta {
  return { set: [...unflatten(sets as unknown[], 0)], delete: deletes as string[] };
}

/** Session timestamps on the wire: `[createdAt, idleExpiresAt, absoluteExpiresAt]`. */
export function encodeMeta(
  meta: Pick<SessionMeta, 'createdAt' | 'idleExpiresAt' | 'absoluteExpiresAt'>,
): [number, number, number] {
  return [meta.createdAt, meta.idleExpiresAt, meta.absoluteExpiresAt];
}

export function decodeMeta(wire: unknown): SessionMeta | null {
  if (!Array.isArray(wire)) return null;
  const [createdAt, idleExpiresAt, absoluteExpiresAt] = wire as [number, number, number];
  return {
    createdAt,
    idleExpiresAt,
    absoluteExpiresAt,
    expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
  };
}

/** A snapshot on the wire: the meta triple, then the flat values. */
export function encodeSnapshot(record: SessionRecord): unknown[] {
  return flatten(encodeMeta(record), record.values);
}

export function decodeSnapshot(wire: unknown): SessionSnapshot | null {
  if (!Array.isArray(wire)) return null;
  const [createdAt, idleExpiresAt, absoluteExpiresAt] = wire as [number, number, number];
  const expiresAt = Math.min(idleExpiresAt, absoluteExpiresAt);
  return { createdAt, idleExpiresAt, absoluteExpiresAt, expiresAt, values: unflatten(wire, 3) };
}

/** A whole record moving between shards (rename): `[createdAt, idleTimeoutMs, idleExpiresAt, absoluteExpiresAt, …values]`. */
export function encodeRecord(record: SessionRecord): unknown[] {
  const head = [record.createdAt, record.idleTimeoutMs, record.idleExpiresAt, record.absoluteExpiresAt];
  return flatten(head, record.values);
}

export function decodeRecord(wire: readonly unknown[]): SessionRecord {
  const [createdAt, idleTimeoutMs, idleExpiresAt, absoluteExpiresAt] = wire as number[];
  const values = unflatten(wire, 4);
  return {
    values,
    bytes: valueBytes(values),
    createdAt: createdAt as number,
    idleTimeoutMs: idleTimeoutMs as number,
    idleExpiresAt: idleExpiresAt as number,
    absoluteExpiresAt: absoluteExpiresAt as number,
    bucket: 0,
    probation: undefined,
  };
}
