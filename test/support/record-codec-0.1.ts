/**
 * The durable record encoder of shard-session 0.1.0, kept verbatim (but for its input: the record's fields and
 * a Map of values, as that version's table held them) so tests can write files as that version did and check
 * that the current code loads them. Do not "fix" it: it is a fixture.
 */
interface OldRecord {
  values: Map<string, Uint8Array>;
  createdAt: number;
  idleTimeoutMs: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  binding?: { userId: string; handle: string; label?: string; boundAt: number };
  retimed?: true;
}

const HEAD_BYTES = 33;

export function encodeStoredRecord01(record: OldRecord): Uint8Array {
  const extras =
    record.binding === undefined && record.retimed === undefined
      ? undefined
      : Buffer.from(JSON.stringify({ b: record.binding, r: record.retimed && 1 }));
  let size = HEAD_BYTES + (extras ? 2 + extras.byteLength : 0);
  for (const [key, value] of record.values) size += 6 + Buffer.byteLength(key) + value.byteLength;
  const bytes = Buffer.allocUnsafe(size);
  bytes[0] = extras ? 2 : 1;
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
