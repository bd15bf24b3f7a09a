import { Packr } from 'msgpackr';
import type { SessionDelta, SessionMeta, SessionSnapshot } from '../provider.js';
import type { SessionRecord } from '../session-table.js';

/**
 * The wire format between the router (main thread) and a shard worker. A request frame is one msgpackr
 * message `[now, op, op, …]` carrying every operation for that shard from one event-loop turn, stamped
 * with the router's clock; the answer frame is `[status, value, status, value, …]`, one pair per op in the
 * same order, so no op needs an id. Frames travel as transferred ArrayBuffers (moved, not copied).
 * Only arrays, strings, numbers and binary cross: no objects, so no record structures to share.
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
  Gc: 9,
  Count: 10,
  Stats: 11,
} as const;

/** One operation on the wire: its code, then its arguments. */
export type WireOp = readonly unknown[];

/** An answer's status: the value is the result, or `[code, message]` of a SessionError. */
export const OK = 0;
export const FAILED = 1;

/** Keys and values interleaved, `[key, bytes, key, bytes, …]`: one flat array instead of a pair per key. */
export type FlatValues = unknown[];

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
  if (!Array.isArray(frame)) throw new TypeError('malformed frame: not an array');
  return frame;
}

export function flattenValues(entries: Iterable<readonly [string, Uint8Array]>): FlatValues {
  const flat: FlatValues = [];
  for (const [key, value] of entries) flat.push(key, value);
  return flat;
}

export function unflattenValues(flat: FlatValues): Map<string, Uint8Array> {
  const values = new Map<string, Uint8Array>();
  for (let i = 0; i + 1 < flat.length; i += 2) values.set(flat[i] as string, flat[i + 1] as Uint8Array);
  return values;
}

/** A delta on the wire: `[flatSets, deletes]`. */
export function encodeDelta(delta: SessionDelta | undefined): [FlatValues, readonly string[]] {
  return [delta?.set ? flattenValues(delta.set) : [], delta?.delete ?? []];
}

/** Rebuilds a delta in the worker; shapes are checked by the table, which refuses anything malformed. */
export function decodeDelta(sets: unknown, deletes: unknown): SessionDelta {
  const set: [string, Uint8Array][] = [];
  if (Array.isArray(sets)) {
    for (let i = 0; i + 1 < sets.length; i += 2) set.push([sets[i] as string, sets[i + 1] as Uint8Array]);
  }
  return { set, delete: deletes as string[] };
}

/** Session timestamps on the wire: `[createdAt, idleExpiresAt, absoluteExpiresAt]`. */
export function encodeMeta(meta: SessionMeta): [number, number, number] {
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

/** A snapshot on the wire: the meta triple followed by the flat values. */
export function encodeSnapshot(record: SessionRecord): unknown[] {
  const wire: unknown[] = [record.createdAt, record.idleExpiresAt, record.absoluteExpiresAt];
  for (const [key, value] of record.values) wire.push(key, value);
  return wire;
}

export function decodeSnapshot(wire: unknown): SessionSnapshot | null {
  if (!Array.isArray(wire)) return null;
  // Read in place (no slice, no spread): this runs for every request that has a session.
  const values = new Map<string, Uint8Array>();
  for (let i = 3; i + 1 < wire.length; i += 2) values.set(wire[i] as string, wire[i + 1] as Uint8Array);
  const idleExpiresAt = wire[1] as number;
  const absoluteExpiresAt = wire[2] as number;
  const createdAt = wire[0] as number;
  return {
    createdAt,
    idleExpiresAt,
    absoluteExpiresAt,
    expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
    values,
  };
}

/** A whole record moving between shards (rename): `[createdAt, idleTimeoutMs, idleExpiresAt, absoluteExpiresAt, …flat values]`. */
export function encodeRecord(record: SessionRecord): unknown[] {
  const wire: unknown[] = [
    record.createdAt,
    record.idleTimeoutMs,
    record.idleExpiresAt,
    record.absoluteExpiresAt,
  ];
  for (const [key, value] of record.values) wire.push(key, value);
  return wire;
}

export function decodeRecord(wire: readonly unknown[]): SessionRecord {
  const [createdAt, idleTimeoutMs, idleExpiresAt, absoluteExpiresAt] = wire as number[];
  const values = unflattenValues(wire.slice(4));
  let bytes = 0;
  for (const [key, value] of values) bytes += Buffer.byteLength(key) + value.byteLength;
  return {
    values,
    bytes,
    createdAt: createdAt as number,
    idleTimeoutMs: idleTimeoutMs as number,
    idleExpiresAt: idleExpiresAt as number,
    absoluteExpiresAt: absoluteExpiresAt as number,
    bucket: 0,
  };
}
