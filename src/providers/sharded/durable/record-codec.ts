import { HEAD_BYTES, LAYOUT } from '../../packed-record.js';
import type { Binding, SessionRecord } from '../../session-record.js';

/**
 * A session record as LMDB stores it. Layout 1 is the table's packed record itself (packed-record.ts: four
 * float64 timestamps, then per key a uint16 key length, the key (UTF-8), a uint32 value length and the value's
 * bytes, which stay as the main thread encoded them), without the in-memory probation flag: storing a session
 * is one copy of its string's bytes, loading one is one string made of the file's bytes. Files written before
 * the table packed its records (0.1.0) use the same bytes, so they load as they are.
 */
/**
 * Layout 1 plus, after the head, a uint16 length and a JSON object `{ b?: binding, r?: 1 }`: the user binding
 * and the "own timeouts" flag of issue 13. Written only for records that have one of them, so an unbound
 * session is stored exactly as layout 1.
 */
const LAYOUT_WITH_EXTRAS = 2;

export function encodeStoredRecord(record: SessionRecord): Uint8Array {
  const { packed } = record;
  if (record.binding === undefined && record.retimed === undefined) {
    const bytes = Buffer.from(packed, 'latin1');
    bytes[0] = LAYOUT;
    return bytes;
  }
  const extras = Buffer.from(JSON.stringify({ b: record.binding, r: record.retimed && 1 }));
  const bytes = Buffer.allocUnsafe(packed.length + 2 + extras.byteLength);
  bytes.write(packed, 0, 'latin1');
  bytes[0] = LAYOUT_WITH_EXTRAS;
  bytes.writeUInt16LE(extras.byteLength, HEAD_BYTES);
  bytes.set(extras, HEAD_BYTES + 2);
  bytes.write(packed.slice(HEAD_BYTES), HEAD_BYTES + 2 + extras.byteLength, 'latin1');
  return bytes;
}

/** When a stored record dies, read from its head alone (a restart skips dead records without decoding them). */
export function storedExpiresAt(bytes: Buffer): number {
  checkLayout(bytes);
  return Math.min(bytes.readDoubleLE(17), bytes.readDoubleLE(25));
}

/** Decodes a stored record into the table's form; a truncated or unknown one is a RangeError. */
export function decodeStoredRecord(bytes: Buffer): SessionRecord {
  checkLayout(bytes);
  let at = HEAD_BYTES;
  let extras: { b?: Binding; r?: 1 } = {};
  if (bytes[0] === LAYOUT_WITH_EXTRAS) {
    const length = bytes.readUInt16LE(at);
    extras = JSON.parse(bytes.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  const valuesAt = at;
  while (at < bytes.length) {
    const keyEnd = at + 2 + (at + 2 <= bytes.length ? bytes.readUInt16LE(at) : 0);
    if (keyEnd + 4 > bytes.length) throw new RangeError('a stored session is truncated');
    at = keyEnd + 4 + bytes.readUInt32LE(keyEnd);
    if (at > bytes.length) throw new RangeError('a stored session is truncated');
  }
  let packed: string;
  if (valuesAt === HEAD_BYTES) packed = bytes.toString('latin1');
  else {
    // Layout 2: the extras go to the table's side map; the record is the head and the values, as layout 1.
    const record = Buffer.allocUnsafe(HEAD_BYTES + bytes.length - valuesAt);
    bytes.copy(record, 0, 0, HEAD_BYTES);
    bytes.copy(record, HEAD_BYTES, valuesAt);
    record[0] = LAYOUT;
    packed = record.toString('latin1');
  }
  return {
    packed,
    ...(extras.b && { binding: extras.b }),
    ...(extras.r && { retimed: true as const }),
  };
}

function checkLayout(bytes: Buffer): void {
  if (bytes.length < HEAD_BYTES || (bytes[0] !== LAYOUT && bytes[0] !== LAYOUT_WITH_EXTRAS)) {
    throw new RangeError(
      `a stored session has an unknown layout (${bytes.length} bytes, version ${bytes[0]})`,
    );
  }
}
