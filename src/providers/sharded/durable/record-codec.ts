import {
  bodyStart,
  entryBounds,
  LAYOUT,
  MAX_HEAD_BYTES,
  packStored,
  readEntry,
} from '../../packed-record.js';
import type { Binding, SessionRecord } from '../../session-record.js';

/**
 * A session record as LMDB stores it. Layout 3 is the table's packed record itself (packed-record.ts: three
 * float64 timestamps, the idle timeout as a varint, then per key a varint key length, the key (UTF-8), a
 * varint value length and the value's bytes, which stay as the main thread encoded them), without the
 * in-memory probation flag: storing a session is one copy of its string's bytes, loading one is one string
 * made of the file's bytes.
 * Layout 4 is layout 3 plus, after the head, a uint16 length and a JSON object `{ b?: binding, r?: 1 }`: the
 * user binding and the "own timeouts" flag of issue 13. Written only for records that have one of them, so
 * an unbound session is stored exactly as layout 3.
 * Layouts 1 and 2 are the same two with the head and lengths of 0.1.0 (four float64 timestamps, uint16 key
 * and uint32 value lengths): files written before layout 3 load through `fromLegacy`, one conversion per
 * record at a restart; the next write of the session stores it as layout 3.
 */
const LAYOUT_WITH_EXTRAS = 4;
const LEGACY = 1;
const LEGACY_WITH_EXTRAS = 2;
/** Layout 1's head: the layout byte and four float64 (createdAt, idleTimeoutMs, idleExpiresAt, absolute). */
const LEGACY_HEAD_BYTES = 33;
/** The shortest layout 3 head: the layout byte, three float64 and a one-byte idle timeout. */
const MIN_HEAD_BYTES = 26;

export function encodeStoredRecord(record: SessionRecord): Uint8Array {
  const { packed } = record;
  if (record.binding === undefined && record.retimed === undefined) {
    const bytes = Buffer.from(packed, 'latin1');
    bytes[0] = LAYOUT;
    return bytes;
  }
  const head = bodyStart(packed);
  const extras = Buffer.from(JSON.stringify({ b: record.binding, r: record.retimed && 1 }));
  const bytes = Buffer.allocUnsafe(packed.length + 2 + extras.byteLength);
  bytes.write(packed, 0, 'latin1');
  bytes[0] = LAYOUT_WITH_EXTRAS;
  bytes.writeUInt16LE(extras.byteLength, head);
  bytes.set(extras, head + 2);
  bytes.write(packed.slice(head), head + 2 + extras.byteLength, 'latin1');
  return bytes;
}

/** When a stored record dies, read from its head alone (a restart skips dead records without decoding them). */
export function storedExpiresAt(bytes: Buffer): number {
  checkLayout(bytes);
  if (isLegacy(bytes)) return Math.min(bytes.readDoubleLE(17), bytes.readDoubleLE(25));
  return Math.min(bytes.readDoubleLE(9), bytes.readDoubleLE(17));
}

/** Decodes a stored record into the table's form; a truncated or unknown one is a RangeError. */
export function decodeStoredRecord(bytes: Buffer): SessionRecord {
  checkLayout(bytes);
  const legacy = isLegacy(bytes);
  const head = legacy ? LEGACY_HEAD_BYTES : bodyStart(bytes.toString('latin1', 0, MAX_HEAD_BYTES));
  let at = head;
  let extras: { b?: Binding; r?: 1 } = {};
  if (bytes[0] === LEGACY_WITH_EXTRAS || bytes[0] === LAYOUT_WITH_EXTRAS) {
    if (at + 2 > bytes.length) throw new RangeError('a stored session is truncated');
    const length = bytes.readUInt16LE(at);
    // Cut inside the JSON, the record would be a SyntaxError from JSON.parse: say what it is.
    if (at + 2 + length > bytes.length) throw new RangeError('a stored session is truncated');
    extras = JSON.parse(bytes.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  const packed = legacy ? fromLegacy(bytes, at) : fromLayout3(bytes, head, at);
  return {
    packed,
    ...(extras.b && { binding: extras.b }),
    ...(extras.r && { retimed: true as const }),
  };
}

/** The packed record of a layout 3 or 4 record whose keys start at `valuesAt`, checked whole. */
function fromLayout3(bytes: Buffer, head: number, valuesAt: number): string {
  if (head > bytes.length) throw new RangeError('a stored session is truncated');
  // One flat string of the file's bytes (the table reads it by character: no concatenation of two).
  const record =
    valuesAt === head ? bytes : Buffer.concat([bytes.subarray(0, head), bytes.subarray(valuesAt)]);
  record[0] = LAYOUT;
  const packed = record.toString('latin1');
  const entry = entryBounds();
  // Every field takes at least a byte, so a cut record ends past its length: one check per entry finds it.
  for (let at = head; at < packed.length; at = entry.end) {
    if (readEntry(packed, at, entry).end > packed.length)
      throw new RangeError('a stored session is truncated');
  }
  return packed;
}

/** The packed record of a layout 1 or 2 record (0.1.0's head and lengths) whose keys start at `valuesAt`. */
function fromLegacy(bytes: Buffer, valuesAt: number): string {
  const entries: [string, Uint8Array][] = [];
  for (let at = valuesAt; at < bytes.length; ) {
    const keyEnd = at + 2 + (at + 2 <= bytes.length ? bytes.readUInt16LE(at) : 0);
    if (keyEnd + 4 > bytes.length) throw new RangeError('a stored session is truncated');
    const end = keyEnd + 4 + bytes.readUInt32LE(keyEnd);
    if (end > bytes.length) throw new RangeError('a stored session is truncated');
    entries.push([
      bytes.toString('latin1', at + 2, keyEnd),
      Uint8Array.from(bytes.subarray(keyEnd + 4, end)),
    ]);
    at = end;
  }
  const times = {
    createdAt: bytes.readDoubleLE(1),
    idleTimeoutMs: bytes.readDoubleLE(9),
    idleExpiresAt: bytes.readDoubleLE(17),
    absoluteExpiresAt: bytes.readDoubleLE(25),
  };
  return packStored(times, entries);
}

function isLegacy(bytes: Buffer): boolean {
  return bytes[0] === LEGACY || bytes[0] === LEGACY_WITH_EXTRAS;
}

function checkLayout(bytes: Buffer): void {
  const layout = bytes[0];
  const minimum = layout === LEGACY || layout === LEGACY_WITH_EXTRAS ? LEGACY_HEAD_BYTES : MIN_HEAD_BYTES;
  const known =
    layout === LEGACY || layout === LEGACY_WITH_EXTRAS || layout === LAYOUT || layout === LAYOUT_WITH_EXTRAS;
  if (!known || bytes.length < minimum) {
    throw new RangeError(`a stored session has an unknown layout (${bytes.length} bytes, version ${layout})`);
  }
}
