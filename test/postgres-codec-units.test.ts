import { describe, expect, it } from 'vitest';
import { type BatchOp, batchOutcomes, batchParams } from '../src/providers/postgres/batch-codec.js';
import { OpKind, OpStatus } from '../src/providers/postgres/batch-sql.js';
import { EventCode } from '../src/providers/postgres/user-sql.js';
import { DEFAULT_LIMITS } from '../src/providers/provider-options.js';
import { APPLY_META, applyRow } from './support/apply-rows.js';

// The batch codec's side of issue 13's user sessions (postgres-parts-units.test.ts has the rest): a bind's
// arguments, the binding and own idle timeout a read answers, a bind's answer, and the event rows of a batch.
// postgres-users.test.ts runs the same through a real PostgreSQL.

const row = applyRow;
const meta = APPLY_META;
const HANDLE = 'abcdefghijklmnopqrstuv';

describe('postgres batch codec: user sessions', () => {
  it('sends a bind’s handle and label beside the other operations, NULL where an operation has none', () => {
    const ops: BatchOp[] = [
      { kind: OpKind.Read, sid: 's1' },
      { kind: OpKind.Bind, sid: 's2', arg: 'alice', arg2: HANDLE, arg3: 'Phone' },
      { kind: OpKind.Bind, sid: 's3', arg: 'bob', arg2: HANDLE },
    ];
    const params = batchParams(9, ops, DEFAULT_LIMITS, 3);
    expect(params.slice(1, 6)).toEqual([
      [OpKind.Read, OpKind.Bind, OpKind.Bind],
      ['s1', 's2', 's3'],
      [null, 'alice', 'bob'],
      [null, HANDLE, HANDLE],
      [null, 'Phone', null],
    ]);
    // One bind anywhere in the batch is enough for the arrays to be sent in full.
    expect(batchParams(9, [ops[1] as BatchOp, ops[0] as BatchOp], DEFAULT_LIMITS, 3).slice(4, 6)).toEqual([
      [HANDLE, null],
      ['Phone', null],
    ]);
    expect(batchParams(9, [ops[0] as BatchOp], DEFAULT_LIMITS, 3).slice(4, 6)).toEqual([[], []]);
  });

  it('answers a bind with its binding, and a read with the binding and the session’s own idle timeout', () => {
    const ops: BatchOp[] = [
      { kind: OpKind.Bind, sid: 'a', arg: 'alice', arg2: HANDLE },
      { kind: OpKind.Bind, sid: 'b', arg: 'alice', arg2: HANDLE, arg3: 'Läptop' },
      { kind: OpKind.Read, sid: 'c' },
      { kind: OpKind.Read, sid: 'd' },
      { kind: OpKind.Read, sid: 'e' },
      { kind: OpKind.Read, sid: 'f' },
    ];
    const rows = [
      row(1, OpStatus.Done, { user_id: 'alice', handle: HANDLE }),
      row(2, OpStatus.Done, { user_id: 'alice', handle: HANDLE, label: 'Läptop' }),
      row(3, OpStatus.Done, { user_id: 'bob', handle: HANDLE, label: 'Phone', detail: 9000 }),
      row(3, OpStatus.Value, { key: 'k', value: Buffer.from([1]) }),
      row(4, OpStatus.Done, { detail: 9000 }),
      row(5, OpStatus.Done, { user_id: 'carol', handle: HANDLE }),
      row(6, OpStatus.Done),
    ];
    const { outcomes } = batchOutcomes(ops, rows, DEFAULT_LIMITS);
    expect(outcomes[0]).toStrictEqual({ value: { userId: 'alice', handle: HANDLE } });
    expect(outcomes[1]).toStrictEqual({ value: { userId: 'alice', handle: HANDLE, label: 'Läptop' } });
    expect(outcomes[2]).toStrictEqual({
      value: {
        ...meta,
        values: new Map([['k', Buffer.from([1])]]),
        idleTimeoutMs: 9000,
        binding: { userId: 'bob', handle: HANDLE, label: 'Phone' },
      },
    });
    expect(outcomes[3]).toStrictEqual({ value: { ...meta, values: new Map(), idleTimeoutMs: 9000 } });
    expect(outcomes[4]).toStrictEqual({
      value: { ...meta, values: new Map(), binding: { userId: 'carol', handle: HANDLE } },
    });
    // An unbound session with the manager's timeouts: the shape of before, nothing more.
    expect(outcomes[5]).toStrictEqual({ value: { ...meta, values: new Map() } });
  });

  it('collects the events of a batch’s rows apart from the answers, whatever operation they follow', () => {
    const ops: BatchOp[] = [
      { kind: OpKind.Destroy, sid: 'a' },
      { kind: OpKind.Read, sid: 'b' },
    ];
    const event = (code: number, userId: string) =>
      row(0, OpStatus.Event, { detail: code, user_id: userId, handle: HANDLE });
    const { outcomes, events } = batchOutcomes(
      ops,
      [
        row(1, OpStatus.Done),
        event(EventCode.Destroyed, 'alice'),
        row(2, OpStatus.Done),
        event(EventCode.ExpiredIdle, 'bob'),
        row(2, OpStatus.Value, { key: 'k', value: Buffer.from([2]) }),
      ],
      DEFAULT_LIMITS,
    );
    expect(events).toStrictEqual([
      { type: 'destroyed', handle: HANDLE, userId: 'alice', reason: 'destroy' },
      { type: 'expired', handle: HANDLE, userId: 'bob', reason: 'idle' },
    ]);
    expect(outcomes).toEqual([
      { value: true },
      { value: { ...meta, values: new Map([['k', Buffer.from([2])]]) } },
    ]);
    expect(batchOutcomes([], [], DEFAULT_LIMITS).events).toEqual([]);
  });
});
