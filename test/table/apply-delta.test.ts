import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotANumberError, SessionTooLargeError } from '../../src/errors.js';
import { applyDelta, applyIncr } from '../../src/providers/apply-delta.js';
import { writeNumber } from '../../src/providers/number-codec.js';
import { idleExpiresAt, MAX_KEY_BYTES, unpackValues } from '../../src/providers/packed-record.js';
import { resolveLimits } from '../../src/providers/provider-options.js';
import { newRecord } from '../../src/providers/session-record.js';

// Deltas and increments on a packed record (apply-delta.ts) against a model that keeps the order too: a key
// keeps its place when its value changes; new keys go at the end in the order the delta names them (its
// deletes first, then its sets); a key deleted and set in one delta is set. Large deltas (past 16 changes a
// Map of the changes takes over), keys past 255 bytes, and every limit of `incr`. Written for the survivors
// of a Stryker run of the `table` group.

const POLICY = { idleTimeoutMs: 1000, absoluteTimeoutMs: 60_000 };
const LIMITS = resolveLimits();
const entries = (packed: string) => [...unpackValues(packed)].map(([key, value]) => [key, [...value]]);

/** What a delta makes of a record's entries, in order. */
function modelOf(
  before: [string, number[]][],
  del: readonly string[],
  set: readonly (readonly [string, Uint8Array])[],
): [string, number[]][] {
  const changed = new Map<string, number[] | undefined>(); // in order of first mention
  for (const key of del) if (!changed.has(key)) changed.set(key, undefined);
  for (const [key, value] of set) changed.set(key, [...value]);
  const after: [string, number[]][] = [];
  for (const [key, value] of before) {
    if (!changed.has(key)) after.push([key, value]);
    else {
      const next = changed.get(key);
      if (next) after.push([key, next]);
      changed.delete(key);
    }
  }
  for (const [key, value] of changed) if (value) after.push([key, value]);
  return after;
}

describe('applyDelta', () => {
  it('changes, deletes and appends keys in the model’s order, for small and large deltas', () => {
    const key = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split(''), 'é', 'ключ');
    const delta = fc.record({
      delete: fc.array(key, { maxLength: 30 }),
      set: fc.array(fc.tuple(key, fc.uint8Array({ maxLength: 5 })), { maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.array(delta, { minLength: 1, maxLength: 6 }), (deltas) => {
        let packed = newRecord(POLICY, 0);
        let model: [string, number[]][] = [];
        for (const [i, d] of deltas.entries()) {
          packed = applyDelta(packed, d, LIMITS, 1000 + i);
          model = modelOf(model, d.delete, d.set);
          expect(entries(packed)).toEqual(model);
          expect(idleExpiresAt(packed)).toBe(1000 + i);
        }
      }),
      { seed: 16, numRuns: 300 },
    );
  });

  it('changes every key of a record in one delta past 16 changes (a Map of the changes), one key twice', () => {
    const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
    const first = letters.map((k, i): [string, Uint8Array] => [k, Uint8Array.of(i)]);
    let packed = applyDelta(newRecord(POLICY, 0), { set: first }, LIMITS, 1);
    let model = modelOf([], [], first);
    const second: [string, Uint8Array][] = [
      ...letters.map((k, i): [string, Uint8Array] => [k, Uint8Array.of(100 + i)]),
      ['y', Uint8Array.of(7)],
    ];
    const deleted = ['b', 'x', 'zz'];
    packed = applyDelta(packed, { delete: deleted, set: second }, LIMITS, 2);
    model = modelOf(model, deleted, second);
    expect(entries(packed)).toEqual(model);
    expect(entries(packed).find(([key]) => key === 'y')).toEqual(['y', [7]]);
  });

  it('stores a key past 255 bytes (its 16-bit length) and reads it back', () => {
    const long = 'k'.repeat(300);
    const packed = applyDelta(newRecord(POLICY, 0), { set: [[long, Uint8Array.of(1, 2)]] }, LIMITS, 1);
    expect(entries(packed)).toEqual([[long, [1, 2]]]);
  });

  it('refuses a key past the 16-bit length, a value over maxValueBytes, and names them', () => {
    const limits = resolveLimits({ maxValueBytes: 4 });
    const packed = newRecord(POLICY, 0);
    expect(() => applyDelta(packed, { set: [['v', new Uint8Array(5)]] }, limits, 1)).toThrow(
      /the value of "v" is 5 bytes, over the limit of 4/,
    );
    expect(applyDelta(packed, { set: [['v', new Uint8Array(4)]] }, limits, 1)).toBeTypeOf('string');
    const long = 'x'.repeat(MAX_KEY_BYTES + 1);
    expect(() => applyDelta(packed, { set: [[long, new Uint8Array(1)]] }, LIMITS, 1)).toThrow(
      `a key is at most ${MAX_KEY_BYTES} bytes (UTF-8); "${'x'.repeat(32)}…" is ${MAX_KEY_BYTES + 1}`,
    );
    const longest = 'y'.repeat(MAX_KEY_BYTES);
    expect(entries(applyDelta(packed, { set: [[longest, new Uint8Array(1)]] }, LIMITS, 1))).toEqual([
      [longest, [0]],
    ]);
  });
});

describe('applyIncr', () => {
  const withValues = (...set: [string, Uint8Array][]) => applyDelta(newRecord(POLICY, 0), { set }, LIMITS, 0);

  it('adds to a number in place or by rebuilding the record, keeping the other keys and sliding the deadline', () => {
    let packed = withValues(['a', Uint8Array.of(9)], ['n', writeNumber(126)], ['z', Uint8Array.of(8)]);
    const steps: number[] = [];
    for (const [i, by] of [1, 1, 1, -3, 2 ** 33].entries()) {
      const result = applyIncr(packed, 'n', by, LIMITS, 500 + i);
      packed = result.packed;
      steps.push(result.value);
      expect(idleExpiresAt(packed)).toBe(500 + i);
      expect(entries(packed).map(([key]) => key)).toEqual(['a', 'n', 'z']);
    }
    expect(steps).toEqual([127, 128, 129, 126, 2 ** 33 + 126]);
    expect(entries(packed)).toEqual([
      ['a', [9]],
      ['n', [...writeNumber(2 ** 33 + 126)]],
      ['z', [8]],
    ]);
    const added = applyIncr(packed, 'new', -2, LIMITS, 600);
    expect(added.value).toBe(-2);
    expect(entries(added.packed).at(-1)).toEqual(['new', [...writeNumber(-2)]]);
  });

  it('finds the key itself, not a longer key it begins', () => {
    const packed = withValues(['ab', writeNumber(5)], ['a2', writeNumber(7)]);
    const { packed: next, value } = applyIncr(packed, 'a', 1, LIMITS, 1);
    expect(value).toBe(1);
    expect(entries(next)).toEqual([
      ['ab', [5]],
      ['a2', [7]],
      ['a', [1]],
    ]);
  });

  it('refuses a value that is not a number, of any length', () => {
    for (const value of [new Uint8Array(0), Uint8Array.of(0xa1, 0x78), new Uint8Array(10)]) {
      const packed = withValues(['k', Uint8Array.of(1)], ['v', value]);
      expect(() => applyIncr(packed, 'v', 1, LIMITS, 1)).toThrow(NotANumberError);
      expect(() => applyIncr(packed, 'v', 1, LIMITS, 1)).toThrow('incr: the value under "v" is not a number');
    }
  });

  it('refuses a new key past maxKeys, a sum past maxValueBytes or maxSessionBytes, and a key too long', () => {
    const packed = withValues(['a', writeNumber(1)], ['b', writeNumber(100)]);
    const twoKeys = resolveLimits({ maxKeys: 2 });
    expect(() => applyIncr(packed, 'c', 1, twoKeys, 1)).toThrow(
      'incr: the session already holds 2 keys, the limit',
    );
    expect(applyIncr(packed, 'a', 1, twoKeys, 1).value).toBe(2);
    const oneByte = resolveLimits({ maxValueBytes: 1 });
    expect(applyIncr(packed, 'b', 27, oneByte, 1).value).toBe(127);
    expect(applyIncr(packed, 'new', 127, oneByte, 1).value).toBe(127); // a new key, a 1-byte number
    expect(() => applyIncr(packed, 'b', 28, oneByte, 1)).toThrow(
      'incr: the session would be over its size limit',
    );
    // 'a' and 'b' hold 1 + 1 and 1 + 1 bytes: a new key of one byte with a 1-byte number makes 6.
    expect(applyIncr(packed, 'c', 1, resolveLimits({ maxSessionBytes: 6 }), 1).value).toBe(1);
    expect(() => applyIncr(packed, 'cc', 1, resolveLimits({ maxSessionBytes: 6 }), 1)).toThrow(
      SessionTooLargeError,
    );
    expect(() => applyIncr(packed, 'x'.repeat(MAX_KEY_BYTES + 1), 1, LIMITS, 1)).toThrow(
      SessionTooLargeError,
    );
    expect(applyIncr(packed, 'y'.repeat(MAX_KEY_BYTES), 1, LIMITS, 1).value).toBe(1);
  });
});
