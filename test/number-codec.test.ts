import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import { readNumber, writeNumber } from '../src/providers/number-codec.js';

describe('MessagePack numbers for incr', () => {
  it('writes what the value codec reads, and reads what it writes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double(), fc.maxSafeInteger(), fc.constant(-0)), (n) => {
        expect(decodeValue(writeNumber(n))).toEqual(n);
        expect(readNumber(encodeValue(n))).toEqual(decodeValue(encodeValue(n)));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads anything that is not a plain number as undefined', () => {
    for (const value of [
      '7',
      '',
      10n,
      2n ** 70n,
      null,
      true,
      [1],
      { n: 1 },
      new Date(0),
      new Uint8Array([1]),
    ]) {
      expect(readNumber(encodeValue(value))).toBeUndefined();
    }
    expect(readNumber(new Uint8Array(0))).toBeUndefined();
    expect(readNumber(Uint8Array.of(0xcb, 1, 2))).toBeUndefined(); // truncated float64
    expect(readNumber(Uint8Array.of(5, 5))).toBeUndefined(); // trailing bytes
  });
});

describe('every MessagePack integer width', () => {
  it('reads what msgpack encodes at each width, signed and unsigned', () => {
    const cases: [number[], number][] = [
      [[0xcc, 0xff], 255],
      [[0xcd, 0x12, 0x34], 0x1234],
      [[0xce, 0xff, 0xff, 0xff, 0xff], 0xffffffff],
      [[0xd0, 0x80], -128],
      [[0xd1, 0x80, 0x00], -32768],
      [[0xd2, 0x80, 0x00, 0x00, 0x00], -2147483648],
      [[0xd2, 0xff, 0xff, 0xff, 0xfe], -2],
      [[0xca, 0x3f, 0xc0, 0x00, 0x00], 1.5],
    ];
    for (const [bytes, expected] of cases) {
      expect(readNumber(Uint8Array.from(bytes))).toBe(expected);
      expect(decodeValue(Uint8Array.from(bytes))).toBe(expected);
    }
  });
});
