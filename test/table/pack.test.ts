import { describe, expect, it } from 'vitest';
import {
  bodyStart,
  idleTimeoutMs,
  keyCount,
  pack,
  timesOf,
  unpackValues,
  valueBytes,
  withTimes,
} from '../../src/providers/packed-record.js';

// pack() (packed-record.ts: what a durable shard's old records and the tests build records with) against the
// layout written out by hand here: layout byte 3, three float64 LE times (created, idle deadline, absolute
// deadline), the idle timeout + 1 as a LEB128 varint, then per key a varint length, the key's UTF-8 bytes, a
// varint length and the value. The varints are spelled out as bytes (worked out by hand, not by the code
// under test). Written first for the survivors of a Stryker run of the `table` group: records built by the
// table before left the same bytes in the scratch buffer pack() uses.

const TIMES = { createdAt: 1, idleTimeoutMs: 2, idleExpiresAt: 3, absoluteExpiresAt: 4 };

function layout(timeout: number[], entries: [string, number[], number[]][]): string {
  const head = Buffer.alloc(25);
  head[0] = 3;
  for (const [i, time] of [1, 3, 4].entries()) head.writeDoubleLE(time, 1 + 8 * i);
  const parts = [head, Buffer.from(timeout)];
  for (const [key, keyLength, value] of entries) {
    parts.push(Buffer.from(keyLength), Buffer.from(key, 'utf8'));
    parts.push(Buffer.from(value.length < 0x80 ? [value.length] : [0xac, 0x02]), Buffer.from(value));
  }
  return Buffer.concat(parts).toString('latin1');
}

const bytes = (n: number) => Array.from({ length: n }, (_, i) => i % 251);

describe('pack', () => {
  it('lays out the head and each entry, a non-ASCII key as its UTF-8 bytes, whatever was built before', () => {
    const cases: [string, number[], number[]][][] = [
      [
        ['é', [2], [1]],
        ['key', [3], [2, 3]],
      ],
      [
        ['é', [2], [9]],
        ['key', [3], [8, 7]],
      ],
      [['ключ', [8], []]],
      // A key of 200 bytes and a value of 300: two-byte lengths (200 = c8 01, 300 = ac 02).
      [['k'.repeat(200), [0xc8, 0x01], bytes(300)]],
    ];
    for (const entries of cases) {
      const packed = pack(
        TIMES,
        entries.map(([key, , value]) => [key, Uint8Array.from(value)]),
      );
      expect(packed).toBe(layout([3], entries));
      expect(timesOf(packed)).toEqual(TIMES);
      expect([...unpackValues(packed)].map(([key, value]) => [key, [...value]])).toEqual(
        entries.map(([key, , value]) => [key, value]),
      );
      expect(keyCount(packed)).toBe(entries.length);
      const counted = entries.reduce((sum, [key, , value]) => sum + Buffer.byteLength(key) + value.length, 0);
      expect(valueBytes(packed)).toBe(counted);
    }
  });

  it('keeps any idle timeout exactly: a long one as a longer varint, a fraction of a ms as a tagged float64', () => {
    const ninetyDays = 7_776_000_000; // past 32 bits: + 1 is 81 b0 f1 fb 1c
    const long = pack({ ...TIMES, idleTimeoutMs: ninetyDays }, [['a', Uint8Array.of(1)]]);
    expect(long).toBe(layout([0x81, 0xb0, 0xf1, 0xfb, 0x1c], [['a', [1], [1]]]));
    expect(idleTimeoutMs(long)).toBe(ninetyDays);
    const fraction = pack({ ...TIMES, idleTimeoutMs: 1.5 }, [['a', Uint8Array.of(1)]]);
    const float = Buffer.alloc(9);
    float.writeDoubleLE(1.5, 1);
    expect(fraction).toBe(layout([...float], [['a', [1], [1]]]));
    expect(timesOf(fraction)).toEqual({ ...TIMES, idleTimeoutMs: 1.5 });
    for (const odd of [0, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY, -1]) {
      expect(idleTimeoutMs(pack({ ...TIMES, idleTimeoutMs: odd }, []))).toBe(odd);
    }
  });

  it('writes and reads lengths at the varint boundaries: 127, 128, 16,383, 16,384 bytes', () => {
    const cases: [number, number[]][] = [
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [16_383, [0xff, 0x7f]],
      [16_384, [0x80, 0x80, 0x01]],
    ];
    for (const [length, lengthBytes] of cases) {
      const value = bytes(length);
      const packed = pack(TIMES, [
        ['v', Uint8Array.from(value)],
        ['n', Uint8Array.of(5)],
      ]);
      const head = Buffer.from(layout([3], []), 'latin1');
      const expected = Buffer.concat([head, Buffer.from([1, 0x76, ...lengthBytes, ...value, 1, 0x6e, 1, 5])]);
      expect(Buffer.from(packed, 'latin1').equals(expected), `a value of ${length} bytes`).toBe(true);
      expect([...unpackValues(packed)].map(([key, v]) => [key, v.length])).toEqual([
        ['v', length],
        ['n', 1],
      ]);
      expect([keyCount(packed), valueBytes(packed)]).toEqual([2, 2 + length + 1]);
    }
  });

  it('spells the idle timeout at its own boundaries: 0, 127 (128 is 80 01), and the largest safe integer', () => {
    const head = (timeoutBytes: number[]) => layout(timeoutBytes, []);
    expect(pack({ ...TIMES, idleTimeoutMs: 0 }, [])).toBe(head([0x01]));
    const at127 = pack({ ...TIMES, idleTimeoutMs: 127 }, [['a', Uint8Array.of(1)]]);
    expect(at127).toBe(layout([0x80, 0x01], [['a', [1], [1]]]));
    expect([bodyStart(at127), idleTimeoutMs(at127)]).toEqual([27, 127]);
    const float = Buffer.alloc(9);
    float.writeDoubleLE(Number.MAX_SAFE_INTEGER, 1);
    expect(pack({ ...TIMES, idleTimeoutMs: Number.MAX_SAFE_INTEGER }, [])).toBe(head([...float]));
  });

  it('withTimes moves the keys when the head changes length, in either direction', () => {
    const values: [string, Uint8Array][] = [
      ['user', Uint8Array.of(0xa1, 0x75)],
      ['count', Uint8Array.of(7)],
    ];
    const short = pack(TIMES, values);
    const longer = withTimes(short, { ...TIMES, idleTimeoutMs: 1.5 });
    expect(bodyStart(longer)).toBe(bodyStart(short) + 8);
    expect(longer).toBe(pack({ ...TIMES, idleTimeoutMs: 1.5 }, values));
    expect(withTimes(longer, TIMES)).toBe(short);
    expect([...unpackValues(longer)]).toEqual(values);
  });
});
