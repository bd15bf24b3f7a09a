import { describe, expect, it } from 'vitest';
import { encodeValue } from '../../src/codec.js';
import { pack } from '../../src/providers/packed-record.js';
import {
  decodeStoredRecord,
  encodeStoredRecord,
  storedExpiresAt,
} from '../../src/providers/sharded/durable/record-codec.js';
import { encodeStoredRecord01 } from '../support/record-codec-0.1.js';

// The durable record codec at its edges: records with only one of the two extras, records with no keys (the
// shortest each layout has), heads cut short, extras cut short. Written for the survivors of a Stryker run of
// the `table` group over layout 3 (each test seen failing with its mutant planted by hand).

const times = { createdAt: 1_000, idleTimeoutMs: 100, idleExpiresAt: 2_000, absoluteExpiresAt: 9_000 };
const binding = { userId: 'u-1', handle: 'h'.repeat(22), boundAt: 500 };
const values = () => new Map([['k', encodeValue('v')]]);

describe('the durable record codec', () => {
  it('stores a binding without own timeouts, own timeouts without a binding, and a bound session without keys', () => {
    const packed = pack(times, values());
    // The last, a bound session without keys: its extras end the record.
    for (const record of [
      { packed, binding },
      { packed, retimed: true as const },
      { packed: pack(times, []), binding },
    ]) {
      const bytes = Buffer.from(encodeStoredRecord(record));
      expect(bytes[0]).toBe(4);
      expect(decodeStoredRecord(bytes)).toStrictEqual(record);
    }
  });

  it('reads the shortest record of every layout: a session without keys', () => {
    // Layout 3: the layout byte, three float64 and a one-byte idle timeout (101): 26 bytes.
    const empty = pack(times, []);
    expect(empty.length).toBe(26);
    expect(decodeStoredRecord(Buffer.from(encodeStoredRecord({ packed: empty })))).toStrictEqual({
      packed: empty,
    });
    // Layout 1 (0.1.0): the layout byte and four float64: 33 bytes.
    const legacy = Buffer.from(encodeStoredRecord01({ ...times, values: new Map() }));
    expect(legacy.length).toBe(33);
    expect(decodeStoredRecord(legacy)).toStrictEqual({ packed: empty });
    expect(storedExpiresAt(legacy)).toBe(times.idleExpiresAt);
  });

  it('refuses a head cut short in every layout, and extras cut short, as RangeErrors that say so', () => {
    const legacy = Buffer.from(encodeStoredRecord01({ ...times, values: new Map() }));
    expect(() => decodeStoredRecord(legacy.subarray(0, 30))).toThrow(
      /unknown layout \(30 bytes, version 1\)/,
    );
    expect(() => storedExpiresAt(legacy.subarray(0, 30))).toThrow(/unknown layout/);
    const legacyBound = Buffer.from(encodeStoredRecord01({ ...times, values: new Map(), binding }));
    expect(() => decodeStoredRecord(legacyBound.subarray(0, 30))).toThrow(
      /unknown layout \(30 bytes, version 2\)/,
    );
    // A fractional idle timeout is a 0 tag and a float64: the head is 34 bytes; cut inside it.
    const tagged = Buffer.from(encodeStoredRecord({ packed: pack({ ...times, idleTimeoutMs: 0.5 }, []) }));
    expect(tagged.length).toBe(34);
    for (const cut of [27, 30, 33]) {
      expect(() => decodeStoredRecord(tagged.subarray(0, cut)), `cut at ${cut}`).toThrow(/truncated/);
    }
    expect(() => decodeStoredRecord(Buffer.from([3, ...new Uint8Array(24)]))).toThrow(/unknown layout/);
    // Layouts 2 and 4: cut inside the extras' length and inside their JSON.
    const extras = [
      Buffer.from(encodeStoredRecord01({ ...times, values: values(), binding })),
      Buffer.from(encodeStoredRecord({ packed: pack(times, values()), binding })),
    ];
    for (const bytes of extras) {
      const head = bytes[0] === 2 ? 33 : 26;
      const jsonEnd = head + 2 + bytes.readUInt16LE(head);
      for (const cut of [head + 1, head + 2, head + 10, jsonEnd - 1]) {
        expect(() => decodeStoredRecord(bytes.subarray(0, cut)), `layout ${bytes[0]} cut at ${cut}`).toThrow(
          new RangeError('a stored session is truncated'),
        );
      }
    }
  });
});
