import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionTooLargeError } from '../src/errors.js';
import { MAX_KEY_BYTES, pack, timesOf, unpackValues, valueBytes } from '../src/providers/packed-record.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import { generateSid } from '../src/sid.js';

// A session is one packed string (packed-record.ts): these check what the table's Map of values did for free.

const policy = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };
const bytes = (...b: number[]) => Uint8Array.from(b);

describe('packed records', () => {
  it('hold a value past 64 KiB (a 32-bit length, a grown scratch buffer), and pack() builds the same bytes', () => {
    const table = new SessionTable(resolveLimits({ maxValueBytes: 300_000, maxSessionBytes: 400_000 }));
    const sid = generateSid();
    const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256);
    table.init(sid, policy, { set: [['small', bytes(9)]] }, 0);
    table.commit(sid, { set: [['big', big]] }, 1);
    const packed = table.read(sid, 2) as string;
    const values = unpackValues(packed);
    expect(values.get('small')).toEqual(bytes(9));
    expect(values.get('big')).toEqual(big);
    expect(valueBytes(packed)).toBe('small'.length + 1 + 'big'.length + big.byteLength);
    // The durable store's encoder: the same layout, byte for byte (probation flag aside: read() cleared it).
    expect(pack(timesOf(packed), values)).toBe(packed);
  });

  it('keep keys in the order of their first set, any Unicode key, and values byte for byte', () => {
    const table = new SessionTable(resolveLimits());
    const sid = generateSid();
    table.init(
      sid,
      policy,
      {
        set: [
          ['b', bytes(1)],
          ['clé', bytes(2, 3)],
          ['🙂', bytes()],
        ],
      },
      0,
    );
    table.commit(
      sid,
      {
        set: [
          ['b', bytes(9, 9, 9)],
          ['a', bytes(4)],
        ],
        delete: ['clé'],
      },
      1,
    );
    table.commit(sid, { delete: ['a'], set: [['a', bytes(5)]] }, 2); // deleted and set in one delta: set
    const values = unpackValues(table.read(sid, 3) as string);
    expect([...values]).toEqual([
      ['b', bytes(9, 9, 9)],
      ['🙂', bytes()],
      ['a', bytes(5)],
    ]);
    expect(table.incr(sid, '🙂x', 2, 4)).toBe(2);
    expect(table.incr(sid, '🙂x', 3, 5)).toBe(5);
  });

  it('refuse a key longer than the 16-bit length field, leaving the session as it was', () => {
    const table = new SessionTable(resolveLimits({ maxSessionBytes: 1 << 20 }));
    const sid = generateSid();
    table.init(sid, policy, { set: [['k', bytes(1)]] }, 0);
    const long = 'é'.repeat(MAX_KEY_BYTES / 2 + 1); // 65,538 bytes of UTF-8
    expect(() => table.commit(sid, { set: [[long, bytes(1)]] }, 1)).toThrow(SessionTooLargeError);
    expect(() => table.incr(sid, long, 1, 1)).toThrow(SessionTooLargeError);
    expect([...unpackValues(table.read(sid, 2) as string)]).toEqual([['k', bytes(1)]]);
  });

  it('count keys plus values against maxSessionBytes, as the Map of values did (random deltas)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            set: fc.array(
              fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 8 })),
            ),
            delete: fc.array(fc.string({ minLength: 1, maxLength: 4 })),
          }),
          { maxLength: 8 },
        ),
        (deltas) => {
          const table = new SessionTable(resolveLimits());
          const sid = generateSid();
          table.init(sid, policy, undefined, 0);
          const model = new Map<string, Uint8Array>();
          for (const delta of deltas) {
            table.commit(sid, delta, 1);
            for (const key of delta.delete) model.delete(key);
            for (const [key, value] of delta.set) model.set(key, value);
          }
          const packed = table.read(sid, 2) as string;
          expect(new Map(unpackValues(packed))).toEqual(model);
          let expected = 0;
          for (const [key, value] of model) expected += Buffer.byteLength(key) + value.byteLength;
          expect(valueBytes(packed)).toBe(expected);
        },
      ),
      { seed: 8, numRuns: 200 },
    );
  });
});

describe('the probation queue', () => {
  it('shrinks back as sessions leave probation: stale ids are dropped at its head as new ones come', () => {
    const table = new SessionTable(resolveLimits());
    const first = Array.from({ length: 20_000 }, () => generateSid());
    for (const sid of first) table.init(sid, policy, undefined, 0);
    expect(table.probationQueued).toBe(20_000);
    for (const sid of first) table.read(sid, 1); // every one came back: off probation
    expect(table.onProbation).toBe(0);
    for (let i = 0; i < 15_000; i++) table.init(generateSid(), policy, undefined, 2);
    expect(table.onProbation).toBe(15_000);
    expect(table.probationQueued).toBe(15_000);
  });
});

describe('maxShardBytes', () => {
  it('counts a binding, and nothing is left counted once the session is gone', () => {
    const table = new SessionTable(resolveLimits());
    const sid = generateSid();
    table.init(sid, policy, { set: [['k', bytes(1)]] }, 0);
    const unbound = table.bytes;
    table.users.bind(sid, 'user-1', 'a phone', 1);
    expect(table.bytes).toBeGreaterThan(unbound + 'user-1a phone'.length);
    table.users.bind(sid, 'user-1', 'a much longer label', 2);
    const relabelled = table.bytes;
    expect(relabelled).toBeGreaterThan(unbound);
    expect(table.destroy(sid, 3)).toBe(true);
    expect(table.bytes).toBe(0);
  });
});
