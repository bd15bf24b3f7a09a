import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import { InvalidArgumentError } from '../src/errors.js';

// decodeValue reads the smallest values itself (fixints, nil, booleans, short ASCII strings) and hands the rest
// to msgpackr: both must give exactly what msgpackr with the codec's options gives.
const reference = new Packr({ structuredClone: true, moreTypes: true, int64AsType: 'bigint' });

function referenceDecode(bytes: Uint8Array): { value: unknown } | { error: true } {
  try {
    return { value: reference.unpack(bytes) };
  } catch {
    return { error: true };
  }
}

describe('decodeValue', () => {
  it('decodes every one-byte value as msgpackr does, or refuses it with InvalidArgumentError', () => {
    for (let byte = 0; byte < 256; byte++) {
      const bytes = Uint8Array.of(byte);
      const expected = referenceDecode(bytes);
      if ('error' in expected)
        expect(() => decodeValue(bytes), `0x${byte.toString(16)}`).toThrow(InvalidArgumentError);
      else expect(decodeValue(bytes), `0x${byte.toString(16)}`).toStrictEqual(expected.value);
    }
  });

  it('decodes strings, numbers and flags as msgpackr does, short ASCII ones included', () => {
    const values = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(values, (value) => {
        const bytes = encodeValue(value);
        expect(decodeValue(bytes)).toStrictEqual(reference.unpack(bytes));
        // msgpackr writes -0 as the integer 0: the one value these do not give back as it was.
        if (!Object.is(value, -0)) expect(decodeValue(bytes)).toStrictEqual(value);
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes every one-character fixstr as msgpackr does, a byte that is not ASCII included', () => {
    // Bytes 0x80 and up are not ASCII: msgpackr reads them as UTF-8 (a lone one is U+FFFD), not as a char code.
    for (let byte = 0; byte < 256; byte++) {
      const bytes = Uint8Array.of(0xa1, byte);
      expect(decodeValue(bytes), `0x${byte.toString(16)}`).toStrictEqual(reference.unpack(bytes));
    }
  });

  it('refuses a small value followed by more bytes, as msgpackr does, with msgpackr’s reason', () => {
    for (const head of [0x05, 0xe0, 0xc0, 0xc2, 0xc3]) {
      const bytes = Uint8Array.of(head, 0x00);
      const reason = (() => {
        try {
          reference.unpack(bytes);
        } catch (error) {
          return (error as Error).message;
        }
        throw new Error('msgpackr accepted trailing bytes');
      })();
      expect(() => decodeValue(bytes), `0x${head.toString(16)}`).toThrow(
        new InvalidArgumentError(`not an encoded session value: ${reason}`),
      );
    }
  });

  it('says why a value cannot be encoded in msgpackr’s words', () => {
    expect(() => encodeValue(Symbol('s'))).toThrow(
      new InvalidArgumentError('a session value cannot be encoded: Unknown type: symbol'),
    );
  });

  it('refuses a fixstr header whose bytes are missing', () => {
    expect(() => decodeValue(Uint8Array.of(0xa3, 0x61))).toThrow(InvalidArgumentError);
  });
});
