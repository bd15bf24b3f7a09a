import { describe, expect, it } from 'vitest';
import { SessionError } from '../src/errors.js';
import { pack } from '../src/providers/packed-record.js';
import type { Binding, RecordExtras, SessionRecord } from '../src/providers/session-record.js';
import { snapshotOf } from '../src/providers/session-record.js';
import {
  decodeDelta,
  decodeFrame,
  decodeRecord,
  decodeSnapshot,
  encodeDelta,
  encodeFrame,
  encodeRecord,
  encodeSnapshot,
} from '../src/providers/sharded/protocol.js';

// The frame codec's worker half (decodeDelta, encodeSnapshot, encodeRecord, decodeRecord) runs in the shard
// threads, from dist/: here it runs in this thread, each encoding decoded by its other half and compared
// exactly (toStrictEqual: a key present with `undefined` or `null` is a difference).

const TIMES = { createdAt: 1000, idleTimeoutMs: 60_000, idleExpiresAt: 61_000, absoluteExpiresAt: 601_000 };
const bytes = (...values: number[]) => Uint8Array.from(values);
const VALUES: [string, Uint8Array][] = [
  ['user', bytes(0xa3, 0x61, 0x6e, 0x6e)],
  ['', bytes()],
  ['é', bytes(1, 2, 3)],
];
const BOUND: Binding = { userId: 'ann', handle: 'h1', label: 'laptop', boundAt: 500 };
const UNLABELLED: Binding = { userId: 'ann', handle: 'h2', boundAt: 501 };

describe('the frame codec, both halves in this thread', () => {
  it('a delta decodes to exactly what was encoded; one without values deletes nothing', () => {
    const delta = { set: VALUES, delete: ['gone', 'also'] };
    const [sets, deletes] = encodeDelta(delta);
    expect(sets).toStrictEqual(['user', VALUES[0]?.[1], '', VALUES[1]?.[1], 'é', VALUES[2]?.[1]]);
    expect(decodeDelta(sets, deletes)).toStrictEqual(delta);
    expect(encodeDelta(undefined)).toStrictEqual([[], []]);
    expect(decodeDelta(...encodeDelta(undefined))).toStrictEqual({ set: [], delete: [] });
    expect(decodeDelta(...encodeDelta({ set: VALUES }))).toStrictEqual({ set: VALUES, delete: [] });
  });

  it.each<[string, RecordExtras | undefined, unknown, unknown]>([
    ['no extras', undefined, null, null],
    ['no binding, not retimed', {}, null, null],
    ['retimed only', { retimed: true }, 60_000, null],
    ['bound with a label', { binding: BOUND }, null, ['ann', 'h1', 'laptop']],
    ['bound without a label, retimed', { binding: UNLABELLED, retimed: true }, 60_000, ['ann', 'h2', null]],
  ])('a snapshot (%s) reads back as the table reads it', (_, extras, idle, binding) => {
    const packed = pack(TIMES, VALUES);
    const wire = encodeSnapshot(packed, extras);
    expect(wire).toStrictEqual([1000, 61_000, 601_000, idle, binding, ...VALUES.flat()]);
    expect(decodeSnapshot(wire)).toStrictEqual(snapshotOf(packed, extras));
  });

  it('a snapshot without values is its head alone', () => {
    const wire = encodeSnapshot(pack(TIMES, []), undefined);
    expect(wire).toStrictEqual([1000, 61_000, 601_000, null, null]);
    expect(decodeSnapshot(wire)).toStrictEqual({
      createdAt: 1000,
      idleExpiresAt: 61_000,
      absoluteExpiresAt: 601_000,
      expiresAt: 61_000,
      values: new Map(),
    });
  });

  it.each<[string, Omit<SessionRecord, 'packed'>, unknown, number]>([
    ['unbound, not retimed', {}, null, 0],
    ['unbound, retimed', { retimed: true }, null, 1],
    ['bound with a label', { binding: BOUND }, ['ann', 'h1', 'laptop', 500], 0],
    ['bound without a label, retimed', { binding: UNLABELLED, retimed: true }, ['ann', 'h2', null, 501], 1],
  ])('a record moving between shards (%s) arrives as it left', (_, extras, binding, retimed) => {
    const record: SessionRecord = { packed: pack(TIMES, VALUES), ...extras };
    const wire = encodeRecord(record);
    expect(wire).toStrictEqual([1000, 60_000, 61_000, 601_000, binding, retimed, ...VALUES.flat()]);
    expect(decodeRecord(wire)).toStrictEqual(record);
    // Through the frame codec too, as it travels (msgpackr hands the values back as Buffers).
    const [, travelled] = decodeFrame(encodeFrame([0, wire]));
    expect(decodeRecord(travelled as unknown[])).toStrictEqual(record);
  });

  it('refuses a frame that is not an array with ERR_MALFORMED_FRAME', () => {
    const notAFrame = encodeFrame({ 0: 1 } as unknown as unknown[]);
    expect(() => decodeFrame(notAFrame)).toThrow(SessionError);
    expect(() => decodeFrame(notAFrame)).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_FRAME' }));
    expect(() => decodeFrame(notAFrame)).toThrow('malformed frame: not an array');
  });
});
