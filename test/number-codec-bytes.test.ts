import { describe, expect, it } from 'vitest';
import { decodeValue } from '../src/codec.js';
import { readNumber, writeNumber } from '../src/providers/number-codec.js';

// The exact bytes of the incr number codec at every boundary (number-codec.test.ts checks the round trip,
// which a wider form than needed also passes): a counter stored as 1 byte must not grow to 5 or 9, and a
// value with bytes after its number is not a number (found by mutation testing).

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('MessagePack numbers for incr: exact forms', () => {
  it('writes the smallest integer form within 32 bits, and a float64 past it', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, 'ce00000080'],
      [0xffff_ffff, 'ceffffffff'],
      [2 ** 32, 'cb41f0000000000000'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd2ffffffdf'],
      [-(2 ** 31), 'd280000000'],
      [-(2 ** 31) - 1, 'cbc1e0000000200000'],
      [-0, 'cb8000000000000000'],
      [1.5, 'cb3ff8000000000000'],
    ];
    for (const [value, bytes] of cases) {
      expect(hex(writeNumber(value)), String(value)).toBe(bytes);
      expect(decodeValue(writeNumber(value))).toBe(value);
      expect(readNumber(writeNumber(value))).toBe(value);
    }
  });

  it('reads each form only at its exact length: one byte more or less is not a number', () => {
    const forms = [
      '7f',
      'e0',
      'cc80',
      'cd1234',
      'ce12345678',
      'd080',
      'd18000',
      'd280000000',
      'ca3fc00000',
      'cb3ff8000000000000',
    ];
    for (const form of forms) {
      const bytes = Buffer.from(form, 'hex');
      expect(readNumber(bytes), form).toBe(decodeValue(bytes));
      expect(readNumber(Buffer.concat([bytes, Buffer.of(0)])), `${form}+00`).toBeUndefined();
      if (bytes.length > 1) expect(readNumber(bytes.subarray(0, -1)), `${form}-1`).toBeUndefined();
    }
    expect(readNumber(Buffer.from('00', 'hex'))).toBe(0);
    expect(readNumber(Buffer.from('ff', 'hex'))).toBe(-1);
  });
});
