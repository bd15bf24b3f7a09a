import { describe, expect, it } from 'vitest';
import { pack, timesOf, unpackValues } from '../../src/providers/packed-record.js';

// pack() (packed-record.ts: what a durable shard's old records and the tests build records with) against the
// layout written out by hand here: layout byte 1, four float64 LE times, then per key a uint16 LE length, the
// key's UTF-8 bytes, a uint32 LE length and the value. Written for the survivors of a Stryker run of the
// `table` group: records built by the table before left the same bytes in the scratch buffer pack() uses.

const TIMES = { createdAt: 1, idleTimeoutMs: 2, idleExpiresAt: 3, absoluteExpiresAt: 4 };

function layout(entries: [string, number[]][]): string {
  const head = Buffer.alloc(33);
  head[0] = 1;
  for (const [i, time] of [1, 2, 3, 4].entries()) head.writeDoubleLE(time, 1 + 8 * i);
  const parts = [head];
  for (const [key, value] of entries) {
    const keyBytes = Buffer.from(key, 'utf8');
    const lengths = Buffer.alloc(6);
    lengths.writeUInt16LE(keyBytes.length, 0);
    parts.push(lengths.subarray(0, 2), keyBytes);
    lengths.writeUInt32LE(value.length, 2);
    parts.push(lengths.subarray(2, 6), Buffer.from(value));
  }
  return Buffer.concat(parts).toString('latin1');
}

describe('pack', () => {
  it('lays out the head and each entry, a non-ASCII key as its UTF-8 bytes, whatever was built before', () => {
    const cases: [string, number[]][][] = [
      [
        ['é', [1]],
        ['key', [2, 3]],
      ],
      [
        ['é', [9]],
        ['key', [8, 7]],
      ],
      [['ключ', []]],
    ];
    for (const entries of cases) {
      const packed = pack(
        TIMES,
        entries.map(([key, value]) => [key, Uint8Array.from(value)]),
      );
      expect(packed).toBe(layout(entries));
      expect(timesOf(packed)).toEqual(TIMES);
      expect([...unpackValues(packed)].map(([key, value]) => [key, [...value]])).toEqual(entries);
    }
  });
});
