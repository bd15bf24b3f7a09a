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
