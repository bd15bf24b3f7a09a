/**
 * A session packed into one latin1 string: the form a table keeps every session in. One character is one
 * byte, laid out exactly as the durable store's layout 1 (record-codec.ts), so persisting a record is a copy:
 *
 *   [0] layout (1), plus PROBATION_FLAG while the session is on probation (never written to a file)
 *   [1..8] createdAt, [9..16] idleTimeoutMs, [17..24] idleExpiresAt, [25..32] absoluteExpiresAt (float64 LE)
 *   then per key: uint16 LE key length, the key (UTF-8), uint32 LE value length, the value's bytes
 *
 * Why a string: V8 keeps a one-byte string as a header and its bytes, one heap object, no ArrayBuffer. The
 * previous record (an object, a Map, a Uint8Array and an ArrayBuffer per value) cost ~830 B of heap per
 * session of two small keys; this costs its length plus 16 B (see README, Performance). Strings are
 * immutable: a write builds the next record in a scratch buffer and makes one new string of it.
 */
export const LAYOUT = 1;
export const HEAD_BYTES = 33;
/** Set on the layout byte while the session is on probation (eviction.ts): the table's only per-session flag. */
export const PROBATION_FLAG = 0x80;
/** A key's length is stored in 16 bits: longer keys are refused (SessionTooLargeError), never cut. */
export const MAX_KEY_BYTES = 0xffff;

const CREATED_AT = 1;
const IDLE_TIMEOUT = 9;
const IDLE_EXPIRES_AT = 17;
const ABSOLUTE_EXPIRES_AT = 25;

/** The timestamps of a record's head. */
export interface RecordTimes {
  readonly createdAt: number;
  readonly idleTimeoutMs: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
}

// Reading a float64 out of a string: its 8 characters go through this scratch (no allocation per read).
const numberBytes = new Uint8Array(8);
const numberView = new DataView(numberBytes.buffer);

function float64At(packed: string, at: number): number {
  for (let i = 0; i < 8; i++) numberBytes[i] = packed.charCodeAt(at + i);
  return numberView.getFloat64(0, true);
}

export const createdAt = (packed: string): number => float64At(packed, CREATED_AT);
export const idleTimeoutMs = (packed: string): number => float64At(packed, IDLE_TIMEOUT);
export const idleExpiresAt = (packed: string): number => float64At(packed, IDLE_EXPIRES_AT);
export const absoluteExpiresAt = (packed: string): number => float64At(packed, ABSOLUTE_EXPIRES_AT);

/** When the record dies: the earlier of its idle and absolute deadlines. */
export function expiresAt(packed: string): number {
  return Math.min(float64At(packed, IDLE_EXPIRES_AT), float64At(packed, ABSOLUTE_EXPIRES_AT));
}

export function onProbation(packed: string): boolean {
  return (packed.charCodeAt(0) & PROBATION_FLAG) !== 0;
}

export function uint16At(packed: string, at: number): number {
  return packed.charCodeAt(at) | (packed.charCodeAt(at + 1) << 8);
}

export function uint32At(packed: string, at: number): number {
  return uint16At(packed, at) + uint16At(packed, at + 2) * 0x10000;
}

/** Keys held. O(keys): a record does not store its key count (the durable layout has none). */
export function keyCount(packed: string): number {
  let keys = 0;
  for (let at = HEAD_BYTES; at < packed.length; keys++) {
    const keyEnd = at + 2 + uint16At(packed, at);
    at = keyEnd + 4 + uint32At(packed, keyEnd);
  }
  return keys;
}

/** Bytes counted against `maxSessionBytes` (keys plus values): the record less its head and length fields. */
export function valueBytes(packed: string): number {
  return packed.length - HEAD_BYTES - 6 * keyCount(packed);
}

/** A key as the record stores it: its UTF-8 bytes, one character each (ASCII keys are their own form). */
export function storedKey(key: string): string {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return Buffer.from(key, 'utf8').toString('latin1');
  }
  return key;
}

/** The key stored at [start, end) as a JS string. */
export function keyAt(packed: string, start: number, end: number): string {
  const key = packed.substring(start, end);
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return Buffer.from(key, 'latin1').toString('utf8');
  }
  return key;
}

/**
 * The scratch buffer records are built in, grown on demand and kept (a shard builds one record at a time).
 * The second half holds the previous record while the next is written into the first.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** A scratch of at least `bytes`, its content kept up to `keep`. */
export function scratchOf(bytes: number): Buffer {
  if (scratch.length < bytes) {
    const grown = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
    scratch.copy(grown);
    scratch = grown;
  }
  return scratch;
}

// Below this length a record is copied into the scratch by a loop of charCodeAt: cheaper than a call into C++.
const COPY_BY_LOOP = 256;

/** The scratch, with `packed`'s bytes read in at `at` (for the caller to patch or copy from). */
export function readInto(packed: string, at = 0): Buffer {
  const length = packed.length;
  const into = scratchOf(at + length);
  if (length > COPY_BY_LOOP) into.write(packed, at, 'latin1');
  else for (let i = 0; i < length; i++) into[at + i] = packed.charCodeAt(i);
  return into;
}

/** The record built in the first `length` bytes of the scratch, as the string the table keeps. */
export function packedString(into: Buffer, length: number): string {
  return into.toString('latin1', 0, length);
}

/** Slides the idle deadline of the record in the scratch. */
export function setIdleExpiresAt(into: Buffer, idleExpiresAt: number): void {
  into.writeDoubleLE(idleExpiresAt, IDLE_EXPIRES_AT);
}

/** Writes a record head at `at` of `into`. */
export function writeHead(into: Buffer, at: number, flags: number, times: RecordTimes): void {
  into[at] = LAYOUT | flags;
  into.writeDoubleLE(times.createdAt, at + CREATED_AT);
  into.writeDoubleLE(times.idleTimeoutMs, at + IDLE_TIMEOUT);
  into.writeDoubleLE(times.idleExpiresAt, at + IDLE_EXPIRES_AT);
  into.writeDoubleLE(times.absoluteExpiresAt, at + ABSOLUTE_EXPIRES_AT);
}

/** The times of a record's head. */
export function timesOf(packed: string): RecordTimes {
  return {
    createdAt: createdAt(packed),
    idleTimeoutMs: idleTimeoutMs(packed),
    idleExpiresAt: idleExpiresAt(packed),
    absoluteExpiresAt: absoluteExpiresAt(packed),
  };
}

/** A record of `times` and `values` (keys as JS strings), not on probation. */
export function pack(times: RecordTimes, values: Iterable<readonly [string, Uint8Array]>): string {
  const entries: [string, Uint8Array][] = [];
  let size = HEAD_BYTES;
  for (const [key, value] of values) {
    const stored = storedKey(key);
    entries.push([stored, value]);
    size += 6 + stored.length + value.byteLength;
  }
  const into = scratchOf(size);
  writeHead(into, 0, 0, times);
  let at = HEAD_BYTES;
  for (const [key, value] of entries) {
    into.writeUInt16LE(key.length, at);
    into.write(key, at + 2, 'latin1');
    at += 2 + key.length;
    into.writeUInt32LE(value.byteLength, at);
    into.set(value, at + 4);
    at += 4 + value.byteLength;
  }
  return into.toString('latin1', 0, size);
}

/** The record with its head's times replaced (the values unchanged; the probation flag kept). */
export function withTimes(packed: string, times: RecordTimes): string {
  const into = readInto(packed);
  writeHead(into, 0, packed.charCodeAt(0) & PROBATION_FLAG, times);
  return packedString(into, packed.length);
}

/** The record with its probation flag set or cleared (the same string when it already is). */
export function withProbation(packed: string, on: boolean): string {
  if (onProbation(packed) === on) return packed;
  const into = readInto(packed);
  into[0] = LAYOUT | (on ? PROBATION_FLAG : 0);
  return packedString(into, packed.length);
}

/**
 * The record's values, decoded for a reader, each a Uint8Array of its own (the caller's to keep: a snapshot
 * holds them for a whole request). Small values are copied by a loop into small arrays, which V8 keeps on its
 * heap without an ArrayBuffer; a large one is one copy by Buffer.
 */
export function unpackValues(packed: string): Map<string, Uint8Array> {
  const values = new Map<string, Uint8Array>();
  forEachValue(packed, (key, start, end) => values.set(key, valueAt(packed, start, end)));
  return values;
}

/** A copy of the bytes at [start, end) of a record. */
export function valueAt(packed: string, start: number, end: number): Uint8Array {
  if (end - start > COPY_BY_LOOP) {
    const bytes = Buffer.from(packed.substring(start, end), 'latin1');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const value = new Uint8Array(end - start);
  for (let i = 0; i < value.length; i++) value[i] = packed.charCodeAt(start + i);
  return value;
}

/** Calls `each` with every key and its value's byte range in the record, in stored order. */
export function forEachValue(packed: string, each: (key: string, start: number, end: number) => void): void {
  for (let at = HEAD_BYTES; at < packed.length; ) {
    const keyEnd = at + 2 + uint16At(packed, at);
    const valueLength = uint32At(packed, keyEnd);
    each(keyAt(packed, at + 2, keyEnd), keyEnd + 4, keyEnd + 4 + valueLength);
    at = keyEnd + 4 + valueLength;
  }
}
