import { expect } from 'vitest';
import { decodeValue } from '../../codec.js';
import { InvalidArgumentError, NotANumberError } from '../../errors.js';
import { bytes, expectRejection, LONG, newSid, setting, valuesOf } from '../fixtures.js';
import type { Harness } from '../harness.js';

/** incr: atomic at the owner, on MessagePack numbers the manager can decode. */
export function incrCases(h: Harness): void {
  h.test('incr counts a missing key as 0 and stores a number decodeValue reads back', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG);
    expect(await provider.incr(sid, 'n', 3)).toBe(3);
    expect(await provider.incr(sid, 'zero', 0)).toBe(0);
    expect(await provider.incr(sid, 'n', 4)).toBe(7);
    const stored = (await provider.read(sid))?.values.get('n') as Uint8Array;
    expect(decodeValue(stored)).toBe(7);
    expect(await valuesOf(provider, sid)).toEqual({ n: 7, zero: 0 });
  });

  h.test('incr adds to numbers stored by encodeValue in every MessagePack form, across 32 bits', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    // fixint, negative fixint, uint8, uint16, int8, int16, int32, uint32, float64 (integers past 32 bits too).
    const start = [5, -3, 200, 60_000, -100, -30_000, -2_000_000_000, 4_000_000_000, 2 ** 40, 0.25];
    await provider.init(sid, LONG, setting(Object.fromEntries(start.map((n, i) => [`k${i}`, n]))));
    for (const [i, n] of start.entries()) {
      expect(await provider.incr(sid, `k${i}`, 1)).toBe(n + 1);
      expect(await provider.incr(sid, `k${i}`, -(2 ** 33))).toBe(n + 1 - 2 ** 33);
    }
    const values = (await valuesOf(provider, sid)) ?? {};
    for (const [i, n] of start.entries()) expect(values[`k${i}`]).toBe(n + 1 - 2 ** 33);
  });

  h.test('incr adds floats and negatives as JavaScript numbers do', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG);
    expect(await provider.incr(sid, 'f', 0.1)).toBe(0.1);
    expect(await provider.incr(sid, 'f', 0.2)).toBe(0.1 + 0.2);
    expect(await provider.incr(sid, 'f', -0.3)).toBe(0.1 + 0.2 - 0.3);
    expect(await provider.incr(sid, 'm', -5)).toBe(-5);
    expect(await provider.incr(sid, 'm', -(2 ** 31))).toBe(-5 - 2 ** 31);
    expect(await valuesOf(provider, sid)).toEqual({ f: 0.1 + 0.2 - 0.3, m: -5 - 2 ** 31 });
  });

  h.test('incr on a value that is not a number rejects NotANumberError and writes nothing', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    const others = { text: '1', yes: true, none: null, big: 5n, list: [1], date: new Date(5), obj: { n: 1 } };
    await provider.init(sid, LONG, setting(others));
    // Bytes that start like a number but are not one, and no bytes at all.
    await provider.commit(sid, {
      set: [
        ['raw', Uint8Array.of(1, 2, 3)],
        ['empty', new Uint8Array(0)],
      ],
    });
    const before = await provider.read(sid);
    for (const key of [...Object.keys(others), 'raw', 'empty']) {
      await expectRejection(() => provider.incr(sid, key, 1), NotANumberError, key);
    }
    expect(await provider.read(sid)).toEqual(before);
  });

  h.test('an increment that is not a finite number rejects InvalidArgumentError', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG, setting({ n: 1 }));
    for (const by of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      '1',
      undefined,
      null,
      1n,
    ]) {
      await expectRejection(() => provider.incr(sid, 'n', by as number), InvalidArgumentError, String(by));
    }
    expect(await valuesOf(provider, sid)).toEqual({ n: 1 });
  });

  h.test('1,000 increments issued before any is awaited return every value exactly once', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    await provider.init(sid, LONG);
    const issued = Array.from({ length: 1000 }, () => provider.incr(sid, 'n', 1));
    const results = (await Promise.all(issued)) as number[];
    expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await valuesOf(provider, sid)).toEqual({ n: 1000 });
  });

  h.test('interleaved callers lose no increment, and commits of other keys keep every one', async () => {
    const { provider } = await h.shared();
    const [a, b] = [newSid(), newSid()];
    await Promise.all([provider.init(a, LONG), provider.init(b, LONG)]);
    // 20 callers, each awaiting its own increments one by one, while another caller commits other keys.
    const callers = Array.from({ length: 20 }, async (_, caller) => {
      const sid = caller % 2 === 0 ? a : b;
      const key = caller % 4 < 2 ? 'x' : 'y';
      for (let i = 0; i < 25; i++) await provider.incr(sid, key, 1);
    });
    const committer = (async () => {
      for (let i = 0; i < 50; i++) await provider.commit(i % 2 === 0 ? a : b, setting({ other: i }));
    })();
    await Promise.all([...callers, committer]);
    expect(await valuesOf(provider, a)).toEqual({ other: 48, x: 125, y: 125 });
    expect(await valuesOf(provider, b)).toEqual({ other: 49, x: 125, y: 125 });
  });

  h.test('incr on an unknown session resolves null and creates nothing', async () => {
    const { provider } = await h.shared();
    const sid = newSid();
    expect(await provider.incr(sid, 'n', 1)).toBeNull();
    expect(await provider.read(sid)).toBeNull();
    // Even when the value under the key would not be a number: there is no session to look in.
    expect(await provider.commit(sid, { set: [['n', bytes('text')]] })).toBeNull();
    expect(await provider.incr(sid, 'n', 1)).toBeNull();
  });
}
