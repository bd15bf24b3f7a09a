import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { generateSid, isValidSid, SID_LENGTH } from '../../src/sid.js';

describe('session ids', () => {
  it('generates 43-character canonical base64url ids, each new', () => {
    const ids = new Set(Array.from({ length: 200 }, generateSid));
    expect(ids.size).toBe(200);
    for (const id of ids) {
      expect(id).toHaveLength(SID_LENGTH);
      expect(SID_LENGTH).toBe(43);
      expect(isValidSid(id)).toBe(true);
      expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    }
  });

  it('accepts only the exact shape: length, alphabet, and a last character with its two low bits zero', () => {
    const id = generateSid();
    const body = id.slice(0, 42);
    expect(isValidSid(`${body}A`)).toBe(true);
    expect(isValidSid(`${body}8`)).toBe(true);
    expect(isValidSid(`${body}B`)).toBe(false); // decodes to the same bytes as ...A: not canonical
    expect(isValidSid(`${body}_`)).toBe(false);
    expect(isValidSid(body)).toBe(false);
    expect(isValidSid(`${id}A`)).toBe(false);
    expect(isValidSid(`${body.slice(1)}+A`)).toBe(false);
    expect(isValidSid(`${body.slice(1)}=A`)).toBe(false);
    expect(isValidSid(` ${body.slice(1)}A`)).toBe(false);
    expect(isValidSid(`${body}A\n`)).toBe(false);
    expect(isValidSid(null)).toBe(false);
    expect(isValidSid(Buffer.from(id))).toBe(false);
  });
});

describe('the value codec', () => {
  it('round-trips what structured clone keeps: Map, Set, Date, BigInt, bytes, cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    const value = {
      map: new Map([['a', 1]]),
      set: new Set([1, 2]),
      date: new Date(1_700_000_000_000),
      big: 2n ** 70n,
      bytes: new Uint8Array([1, 2, 3]),
      cyclic,
    };
    const decoded = decodeValue(encodeValue(value)) as typeof value;
    expect(decoded.map).toEqual(new Map([['a', 1]]));
    expect(decoded.set).toEqual(new Set([1, 2]));
    expect(decoded.date).toEqual(new Date(1_700_000_000_000));
    expect(decoded.big).toBe(2n ** 70n);
    expect(decoded.bytes).toEqual(new Uint8Array([1, 2, 3]));
    expect((decoded.cyclic as Record<string, unknown>).self).toBe(decoded.cyclic);
  });

  it('returns a fresh copy each time, not a view of a reused buffer', () => {
    const first = encodeValue('first value');
    const copy = Uint8Array.from(first);
    encodeValue('a second, different value that overwrites the scratch buffer');
    expect([...first]).toEqual([...copy]);
    expect(decodeValue(first)).toBe('first value');
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.byteLength);
  });

  it('refuses a function anywhere in a value, and a symbol, with InvalidArgumentError', () => {
    expect(() => encodeValue({ deep: [() => 1] })).toThrow(
      new InvalidArgumentError('a session value cannot hold a function'),
    );
    expect(() => encodeValue(Symbol('s'))).toThrow(InvalidArgumentError);
    expect(() => encodeValue(Symbol('s'))).toThrow(/^a session value cannot be encoded: /);
  });

  it('refuses bytes that are not an encoded value with InvalidArgumentError', () => {
    const attempt = () => decodeValue(new Uint8Array(0));
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(/^not an encoded session value: ./);
    expect(() => decodeValue(encodeValue('abc').subarray(0, 2))).toThrow(/^not an encoded session value/);
  });

  it('never lets stored data set a prototype', () => {
    const decoded = decodeValue(encodeValue(JSON.parse('{"__proto__": {"polluted": true}}'))) as object;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
