import type { Binding, SessionRecord } from '../../session-record.js';

/**
 * A session record as LMDB stores it: four float64 timestamps (createdAt, idleTimeoutMs, idleExpiresAt,
 * absoluteExpiresAt), then per key a uint16 key length, the key (UTF-8), a uint32 value length and the value's
 * bytes, which stay as the main thread encoded them (a shard never decodes a user value). A hand-made layout
 * rather than msgpackr: a restart decodes every record, and this one is a few slices and no allocation beyond
 * the record itself.
 */
const HEAD_BYTES = 33;
/** The layout's version, the first byte: a file written by a later layout is refused, not misread. */
const LAYOUT = 1;
/**
 * Layout 1 plus, after the head, a uint16 length and a JSON object `{ b?: binding, r?: 1 }`: the user binding
 * and the "own timeouts" flag of issue 13. Written only for records that have one of them, so an unbound
 * session is stored exactly as before.
 */
const LAYOUT_WITH_EXTRAS = 2;

export function encodeStoredRecord(record: SessionRecord): Uint8Array {
  const extras =
    record.binding === undefined && record.retimed === undefined
      ? undefined
      : Buffer.from(JSON.stringify({ b: record.binding, r: record.retimed && 1 }));
  let size = HEAD_BYTES + (extras ? 2 + extras.byteLength : 0);
  for (const [key, value] of record.values) size += 6 + Buffer.byteLength(key) + value.byteLength;
  const bytes = Buffer.allocUnsafe(size);
  bytes[0] = extras ? LAYOUT_WITH_EXTRAS : LAYOUT;
  bytes.writeDoubleLE(record.createdAt, 1);
  bytes.writeDoubleLE(record.idleTimeoutMs, 9);
  bytes.writeDoubleLE(record.idleExpiresAt, 17);
  bytes.writeDoubleLE(record.absoluteExpiresAt, 25);
  let at = HEAD_BYTES;
  if (extras) {
    bytes.writeUInt16LE(extras.byteLength, at);
    bytes.set(extras, at + 2);
    at += 2 + extras.byteLength;
  }
  for (const [key, value] of record.values) {
    const keyBytes = bytes.write(key, at + 2, 'utf8');
    bytes.writeUInt16LE(keyBytes, at);
    at += 2 + keyBytes;
    bytes.writeUInt32LE(value.byteLength, at);
    bytes.set(value, at + 4);
    at += 4 + value.byteLength;
  }
  return bytes;
}

/** When a stored record dies, read from its head alone (a restart skips dead records without decoding them). */
export function storedExpiresAt(bytes: Buffer): number {
  checkLayout(bytes);
  return Math.min(bytes.readDoubleLE(17), bytes.readDoubleLE(25));
}

/**
 * Decodes a stored record. Its values are views into `bytes`, which the record then owns: lmdb-js hands out a
 * fresh copy per value read (encoding 'binary', not `getBinaryFast`), so no second copy is made. One backing
 * store per record rather than one per value: at a restart of a million sessions that halves the load time.
 */
export function decodeStoredRecord(bytes: Buffer): SessionRecord {
  checkLayout(bytes);
  const values = new Map<string, Uint8Array>();
  let total = 0;
  let at = HEAD_BYTES;
  let extras: { b?: Binding; r?: 1 } = {};
  if (bytes[0] === LAYOUT_WITH_EXTRAS) {
    const length = bytes.readUInt16LE(at);
    extras = JSON.parse(bytes.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  while (at < bytes.length) {
    const keyBytes = bytes.readUInt16LE(at);
    const key = bytes.toString('utf8', at + 2, at + 2 + keyBytes);
    at += 2 + keyBytes;
    const valueBytes = bytes.readUInt32LE(at);
    const end = at + 4 + valueBytes;
    if (end > bytes.length) throw new RangeError('a stored session is truncated');
    values.set(key, new Uint8Array(bytes.buffer, bytes.byteOffset + at + 4, valueBytes));
    total += keyBytes + valueBytes;
    at = end;
  }
  return {
    values,
    bytes: total,
    createdAt: bytes.readDoubleLE(1),
    idleTimeoutMs: bytes.readDoubleLE(9),
    idleExpiresAt: bytes.readDoubleLE(17),
    absoluteExpiresAt: bytes.readDoubleLE(25),
    bucket: 0,
    probation: undefined,
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
