import { Packr } from 'msgpackr';
import { SessionError } from '../../errors.js';
import {
  absoluteExpiresAt,
  createdAt,
  forEachValue,
  idleExpiresAt,
  idleTimeoutMs,
  pack,
  timesOf,
  valueAt,
} from '../packed-record.js';
import type { SessionBinding, SessionDelta, SessionMeta, SessionSnapshot } from '../provider.js';
import type { Binding, RecordExtras, SessionRecord } from '../session-record.js';

/**
 * The wire format between the router (main thread) and a shard worker. A request frame is one msgpackr
 * message `[now, op, op, …]` carrying every operation for that shard from one event-loop turn, stamped
 * with the router's clock; the answer frame is `[status, value, status, value, …]`, one pair per op in the
 * same order, so no op needs an id; when the router keeps a read cache, one more element may follow the pairs:
 * the ids of the sessions the frame's operations removed (read-cache.ts). Frames travel as transferred
 * ArrayBuffers (moved, not copied).
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
  /** Users (issue 13), applied by user-ops.ts: `[BindUser, sid, userId, label|null]` → binding array or null. */
  BindUser: 20,
  /** `[SessionsOf, userId]` → flat `handle, createdAt, lastSeenAt, expiresAt, label|null, …` of this shard. */
  SessionsOf: 21,
  /** `[Revoke, userId, handle]` → whether this shard held it. */
  Revoke: 22,
  /** `[RevokeUser, userId, except|null]` → how many this shard destroyed. */
  RevokeUser: 23,
  /** `[SetTimeouts, sid, idleTimeoutMs, absoluteTimeoutMs]` → meta or null. */
  SetTimeouts: 24,
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

/** Appends a packed record's `key, bytes` pairs to `wire`, flat (msgpackr copies them into the frame). */
function flattenPacked(wire: unknown[], packed: string): unknown[] {
  forEachValue(packed, (key, start, end) => wire.push(key, valueAt(packed, start, end)));
  return wire;
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

/** A binding on the wire: `[userId, handle, label|null]`, or null for an unbound session (one byte). */
export function encodeBinding(binding: SessionBinding | undefined): unknown[] | null {
  return binding ? [binding.userId, binding.handle, binding.label ?? null] : null;
}

export function decodeBinding(wire: unknown): SessionBinding | undefined {
  if (!Array.isArray(wire)) return undefined;
  const [userId, handle, label] = wire as [string, string, string | null];
  return label === null ? { userId, handle } : { userId, handle, label };
}

/**
 * A snapshot on the wire: the meta triple, the session's own idle timeout (`setTimeouts`) or null, the binding
 * or null, then the flat values. An unbound session with the manager's timeouts costs two bytes more than before.
 */
export function encodeSnapshot(packed: string, extras: RecordExtras | undefined): unknown[] {
  const idle = extras?.retimed ? idleTimeoutMs(packed) : null;
  const head = [
    createdAt(packed),
    idleExpiresAt(packed),
    absoluteExpiresAt(packed),
    idle,
    encodeBinding(extras?.binding),
  ];
  return flattenPacked(head, packed);
}

export function decodeSnapshot(wire: unknown): SessionSnapshot | null {
  if (!Array.isArray(wire)) return null;
  const [createdAt, idleExpiresAt, absoluteExpiresAt] = wire as [number, number, number];
  const expiresAt = Math.min(idleExpiresAt, absoluteExpiresAt);
  const values = unflatten(wire, 5);
  const snapshot: SessionSnapshot = { createdAt, idleExpiresAt, absoluteExpiresAt, expiresAt, values };
  if (wire[3] === null && wire[4] === null) return snapshot;
  const binding = decodeBinding(wire[4]);
  return {
    ...snapshot,
    ...(typeof wire[3] === 'number' ? { idleTimeoutMs: wire[3] } : {}),
    ...(binding ? { binding } : {}),
  };
}

/**
 * A whole record moving between shards (rename): `[createdAt, idleTimeoutMs, idleExpiresAt,
 * absoluteExpiresAt, binding|null, retimed (0|1), …values]`, the binding as `[userId, handle, label|null, boundAt]`.
 */
export function encodeRecord(record: SessionRecord): unknown[] {
  const b = record.binding;
  const binding = b ? [b.userId, b.handle, b.label ?? null, b.boundAt] : null;
  const t = timesOf(record.packed);
  const head = [
    t.createdAt,
    t.idleTimeoutMs,
    t.idleExpiresAt,
    t.absoluteExpiresAt,
    binding,
    record.retimed ? 1 : 0,
  ];
  return flattenPacked(head, record.packed);
}

export function decodeRecord(wire: readonly unknown[]): SessionRecord {
  const [createdAt, idleTimeoutMs, idleExpiresAt, absoluteExpiresAt] = wire as number[];
  const packed = pack(
    {
      createdAt: createdAt as number,
      idleTimeoutMs: idleTimeoutMs as number,
      idleExpiresAt: idleExpiresAt as number,
      absoluteExpiresAt: absoluteExpiresAt as number,
    },
    unflatten(wire, 6),
  );
  let binding: Binding | undefined;
  if (Array.isArray(wire[4])) {
    const [userId, handle, label, boundAt] = wire[4] as [string, string, string | null, number];
    binding = label === null ? { userId, handle, boundAt } : { userId, handle, label, boundAt };
  }
  const retimed = wire[5] === 1 ? { retimed: true as const } : {};
  return binding ? { packed, binding, ...retimed } : { packed, ...retimed };
}
