import { varintAt, varintSize, writeVarint } from './varint.js';

/**
 * A session packed into one latin1 string: the form a table keeps every session in. One character is one
 * byte, laid out exactly as the durable store's layout 3 (record-codec.ts), so persisting a record is a copy:
 *
 *   [0] layout (3), plus PROBATION_FLAG while the session is on probation (never written to a file)
 *   [1..8] createdAt, [9..16] idleExpiresAt, [17..24] absoluteExpiresAt (float64 LE)
 *   [25..] idleTimeoutMs: a varint (varint.ts) of the timeout + 1 when it is a whole number of ms (always, from
 *          the manager: 30 minutes is 3 bytes), else a 0 byte and the float64
 *   then per key: a varint key length, the key (UTF-8), a varint value length, the value's bytes
 *
 * Why a string: V8 keeps a one-byte string as a header and its bytes, one heap object, no ArrayBuffer. The
 * previous record (an object, a Map, a Uint8Array and an ArrayBuffer per value) cost ~830 B of heap per
 * session of two small keys; this costs its length plus 16 B, rounded up to 8 (see README, Performance).
 * Layout 1 (0.1.0's files, and this table before layout 3) had a float64 idle timeout and fixed 16- and
 * 32-bit lengths: 13 B more for a session of two small keys, which took its string from 80 to 64 B. Strings are immutable: a write builds the next
 * record in a scratch buffer and makes one new string of it.
 */
export const LAYOUT = 3;
/** The head's fixed part; the idle timeout follows it (1 to 9 bytes). */
const FIXED_HEAD_BYTES = 25;
/** The longest head: the idle timeout as a 0 tag and a float64. */
export const MAX_HEAD_BYTES = FIXED_HEAD_BYTES + 9;
/** Set on the layout byte while the session is on probation (eviction.ts): the table's only per-session flag. */
export const PROBATION_FLAG = 0x80;
/** The longest key (UTF-8 bytes): longer keys are refused (SessionTooLargeError), never cut. */
export const MAX_KEY_BYTES = 0xffff;

const CREATED_AT = 1;
const IDLE_EXPIRES_AT = 9;
const ABSOLUTE_EXPIRES_AT = 17;
const IDLE_TIMEOUT = FIXED_HEAD_BYTES;
/** The idle timeout's tag for "a float64 follows" (a varint of timeout + 1 never starts with a 0 byte). */
const FLOAT_TIMEOUT = 0;

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
export const idleExpiresAt = (packed: string): number => float64At(packed, IDLE_EXPIRES_AT);
export const absoluteExpiresAt = (packed: string): number => float64At(packed, ABSOLUTE_EXPIRES_AT);

export function idleTimeoutMs(packed: string): number {
  if (packed.charCodeAt(IDLE_TIMEOUT) === FLOAT_TIMEOUT) return float64At(packed, IDLE_TIMEOUT + 1);
  return varintAt(packed, IDLE_TIMEOUT) - 1;
}

/** When the record dies: the earlier of its idle and absolute deadlines. */
export function expiresAt(packed: string): number {
  return Math.min(float64At(packed, IDLE_EXPIRES_AT), float64At(packed, ABSOLUTE_EXPIRES_AT));
}

export function onProbation(packed: string): boolean {
  return (packed.charCodeAt(0) & PROBATION_FLAG) !== 0;
}

/** Whether an idle timeout is stored as a varint (a whole number of ms), else as a tag and a float64. */
function wholeMs(timeout: number): boolean {
  return Number.isSafeInteger(timeout) && timeout >= 0 && timeout < Number.MAX_SAFE_INTEGER;
}

/** The bytes of a head holding these times. */
export function headBytes(times: RecordTimes): number {
  const timeout = times.idleTimeoutMs;
  return IDLE_TIMEOUT + (wholeMs(timeout) ? varintSize(timeout + 1) : 9);
}

/** Where a record's keys start: past its head. */
export function bodyStart(packed: string): number {
  let at = IDLE_TIMEOUT;
  if (packed.charCodeAt(at) === FLOAT_TIMEOUT) return at + 9;
  while (packed.charCodeAt(at) >= 0x80) at++;
  return at + 1;
}

/** Where one entry's parts are in a record, filled in by `readEntry` (a caller reuses one: no allocation). */
export interface EntryBounds {
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  /** Where the value ends, and the next entry starts. */
  end: number;
}

/** An empty `EntryBounds` to fill. */
export function entryBounds(): EntryBounds {
  return { keyStart: 0, keyEnd: 0, valueStart: 0, end: 0 };
}

/** Fills `entry` with the bounds of the entry that starts at `at` of `packed`. */
export function readEntry(packed: string, at: number, entry: EntryBounds): EntryBounds {
  const keyLength = varintAt(packed, at);
  entry.keyStart = at + varintSize(keyLength);
  entry.keyEnd = entry.keyStart + keyLength;
  const valueLength = varintAt(packed, entry.keyEnd);
  entry.valueStart = entry.keyEnd + varintSize(valueLength);
  entry.end = entry.valueStart + valueLength;
  return entry;
}

/** The bytes an entry of a stored key of `keyLength` bytes and a value of `valueLength` takes. */
export function entryBytes(keyLength: number, valueLength: number): number {
  return varintSize(keyLength) + keyLength + varintSize(valueLength) + valueLength;
}

/** Writes an entry at `at` of `into` (the key in its stored form); returns where the next one starts. */
export function writeEntry(into: Buffer, at: number, key: string, value: Uint8Array): number {
  let next = writeVarint(into, at, key.length);
  for (let i = 0; i < key.length; i++) into[next + i] = key.charCodeAt(i);
  next = writeVarint(into, next + key.length, value.byteLength);
  into.set(value, next);
  return next + value.byteLength;
}

// One EntryBounds for this module's walks (each runs to its end before another can start).
const walk = entryBounds();

/** Keys held. O(keys): a record does not store its key count (the durable layout has none). */
export function keyCount(packed: string): number {
  let keys = 0;
  for (let at = bodyStart(packed); at < packed.length; keys++) at = readEntry(packed, at, walk).end;
  return keys;
}

/** Bytes counted against `maxSessionBytes` (keys plus values): the record less its head and length fields. */
export function valueBytes(packed: string): number {
  let bytes = 0;
  for (let at = bodyStart(packed); at < packed.length; at = walk.end) {
    readEntry(packed, at, walk);
    bytes += walk.keyEnd - walk.keyStart + walk.end - walk.valueStart;
  }
  return bytes;
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

/** Writes a record head at `at` of `into`; returns where its keys start. */
export function writeHead(into: Buffer, at: number, flags: number, times: RecordTimes): number {
  into[at] = LAYOUT | flags;
  into.writeDoubleLE(times.createdAt, at + CREATED_AT);
  into.writeDoubleLE(times.idleExpiresAt, at + IDLE_EXPIRES_AT);
  into.writeDoubleLE(times.absoluteExpiresAt, at + ABSOLUTE_EXPIRES_AT);
  const timeout = times.idleTimeoutMs;
  if (wholeMs(timeout)) return writeVarint(into, at + IDLE_TIMEOUT, timeout + 1);
  into[at + IDLE_TIMEOUT] = FLOAT_TIMEOUT;
  into.writeDoubleLE(timeout, at + IDLE_TIMEOUT + 1);
  return at + IDLE_TIMEOUT + 9;
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
  for (const [key, value] of values) entries.push([storedKey(key), value]);
  return packStored(times, entries);
}

/** A record of `times` and `entries` (keys already in their stored form, as `storedKey` makes them). */
export function packStored(times: RecordTimes, entries: readonly (readonly [string, Uint8Array])[]): string {
  let size = headBytes(times);
  for (const [key, value] of entries) size += entryBytes(key.length, value.byteLength);
  const into = scratchOf(size);
  let at = writeHead(into, 0, 0, times);
  for (const [key, value] of entries) at = writeEntry(into, at, key, value);
  return into.toString('latin1', 0, size);
}

/** The record with its head's times replaced (the values unchanged; the probation flag kept). */
export function withTimes(packed: string, times: RecordTimes): string {
  // The new head can be longer or shorter (the idle timeout is a varint): the keys move after it.
  const head = headBytes(times);
  const body = bodyStart(packed);
  const into = readInto(packed, head);
  writeHead(into, 0, packed.charCodeAt(0) & PROBATION_FLAG, times);
  into.copyWithin(head, head + body, head + packed.length);
  return packedString(into, head + packed.length - body);
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
  for (let at = bodyStart(packed); at < packed.length; ) {
    readEntry(packed, at, walk);
    // Read out before the call: `each` may walk a record itself.
    const { keyStart, keyEnd, valueStart, end } = walk;
    each(keyAt(packed, keyStart, keyEnd), valueStart, end);
    at = end;
  }
}
