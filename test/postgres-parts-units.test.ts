import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  InvalidOptionError,
  NotANumberError,
  SessionExistsError,
  SessionTooLargeError,
  StoreUnavailableError,
} from '../src/errors.js';
import {
  type BatchOp,
  batchOutcomes,
  batchParams,
  RESULT_TYPES,
} from '../src/providers/postgres/batch-codec.js';
import { OpKind, OpStatus } from '../src/providers/postgres/batch-sql.js';
import { checkInitialSize, checkStorableKey, resolveDelta } from '../src/providers/postgres/delta.js';
import { connectionIsBroken, storeUnavailable } from '../src/providers/postgres/failures.js';
import { lockOrder } from '../src/providers/postgres/lock-order.js';
import { resolvePostgresOptions } from '../src/providers/postgres/options.js';
import { schemaNames } from '../src/providers/postgres/schema-names.js';
import { DEFAULT_LIMITS } from '../src/providers/provider-options.js';
import { APPLY_META, applyRow } from './support/apply-rows.js';

// The 'postgres' provider's parts that need no server: how a failure is classified, the lock order of a
// batch, object names, deltas, the batch function's parameters and answers, the options. The provider runs
// them against a real PostgreSQL in postgres-provider.test.ts and postgres-failures.test.ts.

const limits = { ...DEFAULT_LIMITS, maxKeys: 3, maxSessionBytes: 20, maxValueBytes: 5 };
const bytes = (n: number) => new Uint8Array(n).fill(1);

describe('postgres failures', () => {
  it('keeps a connection after a statement the server refused, and drops it after anything else', () => {
    expect(connectionIsBroken({ code: '55P03' })).toBe(false); // lock_not_available
    expect(connectionIsBroken({ code: '40P01' })).toBe(false); // deadlock
    expect(connectionIsBroken({ code: '42P01' })).toBe(false);
    expect(connectionIsBroken({ code: '08006' })).toBe(true); // connection_failure
    expect(connectionIsBroken({ code: '08000' })).toBe(true);
    for (const code of ['57P01', '57P02', '57P03']) expect(connectionIsBroken({ code })).toBe(true);
    expect(connectionIsBroken({ code: '57014' })).toBe(false); // query_canceled: a statement timeout
    expect(connectionIsBroken({ code: 'ECONNRESET' })).toBe(true); // a socket error: not a SQLSTATE
    expect(connectionIsBroken({ code: '0800' })).toBe(true);
    expect(connectionIsBroken({ code: '080000' })).toBe(true);
    expect(connectionIsBroken({ code: 8006 })).toBe(true);
    expect(connectionIsBroken({ code: 57014 })).toBe(true); // a number, though it reads like a SQLSTATE
    expect(connectionIsBroken(new Error('timeout'))).toBe(true);
    expect(connectionIsBroken(null)).toBe(true);
    expect(connectionIsBroken(undefined)).toBe(true);
  });

  it('names the failure and its SQLSTATE, and says how to create a missing schema', () => {
    const lock = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
    expect(storeUnavailable(lock, 'applying a batch').message).toBe(
      'postgres: applying a batch failed: canceling statement due to lock timeout (SQLSTATE 55P03)',
    );
    expect(storeUnavailable(new Error('Connection terminated'), 'sweeping').message).toBe(
      'postgres: sweeping failed: Connection terminated',
    );
    expect(storeUnavailable('a string', 'x').message).toBe('postgres: x failed: a string');
    for (const code of ['42P01', '42883', '3F000']) {
      const missing = storeUnavailable(
        Object.assign(new Error('relation does not exist'), { code }),
        'reading',
      );
      expect(missing).toBeInstanceOf(StoreUnavailableError);
      expect(missing.message).toBe(
        "postgres: reading: the provider's tables or functions are missing (relation does not exist); create them with createSchema: true or the SQL of postgresSchemaSql()",
      );
    }
    const already = new StoreUnavailableError('told');
    expect(storeUnavailable(already, 'x')).toBe(already);
  });
});

describe('postgres lock order', () => {
  const op = (kind: OpKind, sid: string, arg?: string): BatchOp => ({ kind, sid, arg });

  it('groups a batch by session, sessions in id order, each session’s operations in issue order', () => {
    const ops = [
      op(OpKind.Commit, 'b'),
      op(OpKind.Read, 'a'),
      op(OpKind.Read, 'b'),
      op(OpKind.Commit, 'a'),
      op(OpKind.Destroy, 'c'),
      op(OpKind.Read, 'B'),
    ];
    expect(lockOrder(ops)).toEqual([5, 1, 3, 0, 2, 4]);
    expect(lockOrder([])).toEqual([]);
  });

  it('keeps a rename in one group with the operations on its new id', () => {
    // 'z' renamed to 'a': what was issued on 'a' after the rename must run after it, though 'a' < 'z'.
    const ops = [
      op(OpKind.Read, 'z'),
      op(OpKind.Rename, 'z', 'a'),
      op(OpKind.Commit, 'a'),
      op(OpKind.Read, 'm'),
    ];
    expect(lockOrder(ops)).toEqual([0, 1, 2, 3]);
    // Chained renames join one group: y → x, x → w.
    const chain = [
      op(OpKind.Read, 'q'),
      op(OpKind.Rename, 'y', 'x'),
      op(OpKind.Commit, 'x'),
      op(OpKind.Rename, 'x', 'w'),
      op(OpKind.Read, 'w'),
      op(OpKind.Read, 'p'),
    ];
    expect(lockOrder(chain)).toEqual([5, 0, 1, 2, 3, 4]);
    // Joined the other way round (the smaller id renamed to the larger) and with a rename without a target.
    const reverse = [
      op(OpKind.Commit, 'k'),
      op(OpKind.Rename, 'b', 'k'),
      op(OpKind.Read, 'c'),
      op(OpKind.Rename, 'c'),
    ];
    expect(lockOrder(reverse)).toEqual([0, 1, 2, 3]);
    // A batch of renames only is grouped too.
    expect(lockOrder([op(OpKind.Rename, 'z', 'a'), op(OpKind.Rename, 'a', 'm')])).toEqual([0, 1]);
    // incr's arg is a key, not an id: it links nothing, though it sorts before every id here.
    const incr = [op(OpKind.Read, 'b'), op(OpKind.Incr, 'm', 'a'), op(OpKind.Rename, 'x', 'y')];
    expect(lockOrder(incr)).toEqual([0, 1, 2]);
    expect(lockOrder([op(OpKind.Incr, 'm', 'a'), op(OpKind.Read, 'b'), op(OpKind.Rename, 'x', 'y')])).toEqual(
      [1, 0, 2],
    );
  });
});

describe('postgres schema names', () => {
  it('derives every object’s quoted name from the table name, in the schema when one is named', () => {
    const plain = schemaNames();
    expect(plain.sessions).toBe('"shard_sessions"');
    expect(plain.values).toBe('"shard_sessions_values"');
    expect(plain.expiryIndex).toBe('"shard_sessions_expires_at"');
    expect(plain.schema).toBeUndefined();
    expect(plain.fn('apply_v1')).toBe('"shard_sessions_apply_v1"');
    const named = schemaNames('User', 'App_1');
    expect(named.sessions).toBe('"App_1"."User"');
    expect(named.values).toBe('"App_1"."User_values"');
    expect(named.expiryIndex).toBe('"User_expires_at"');
    expect(named.schema).toBe('"App_1"');
    expect(named.fn('sweep_v1')).toBe('"App_1"."User_sweep_v1"');
    expect(schemaNames(`_${'a'.repeat(39)}`, `_${'b'.repeat(62)}`).schema).toBe(`"_${'b'.repeat(62)}"`);
  });

  it.each([
    [
      '',
      undefined,
      'tableName must be 1 to 40 letters, digits or underscores, not starting with a digit; got ""',
    ],
    ['1t', undefined, 'tableName must be'],
    ['a'.repeat(41), undefined, 'tableName must be'],
    ['t-x', undefined, 'tableName must be'],
    ['t x', undefined, 'tableName must be'],
    ['t"', undefined, 'tableName must be'],
    [' t', undefined, 'tableName must be'],
    [5, undefined, 'tableName must be'],
    ['t', '', 'schemaName must be 1 to 63 letters, digits or underscores, not starting with a digit; got ""'],
    ['t', '9s', 'schemaName must be'],
    ['t', 'a'.repeat(64), 'schemaName must be'],
    ['t', 's.x', 'schemaName must be'],
    ['t', 's ', 'schemaName must be'],
    ['t', null, 'schemaName must be'],
    [['shard_sessions'], undefined, 'tableName must be'], // an array that reads like a name
    ['t', ['s'], 'schemaName must be'],
  ])('refuses table %o in schema %o', (table, schema, message) => {
    expect(() => schemaNames(table, schema)).toThrow(InvalidOptionError);
    expect(() => schemaNames(table, schema)).toThrow(message);
  });
});

describe('postgres deltas', () => {
  it('resolves a delta to its effect: deletes, then sets with the last value winning, each key once', () => {
    const last = bytes(2);
    const resolved = resolveDelta(
      {
        delete: ['a', 'b'],
        set: [
          ['b', bytes(1)],
          ['c', bytes(3)],
          ['b', last],
        ],
      },
      limits,
    );
    expect(resolved.deletes).toEqual(['a']);
    expect(resolved.sets).toEqual([
      ['b', last],
      ['c', bytes(3)],
    ]);
    expect(resolved.valueBytes).toBe(5);
    last[0] = 9; // the caller may reuse its buffer: the delta holds a copy
    expect(resolved.sets[0]?.[1][0]).toBe(1);
    expect(resolveDelta(undefined, limits)).toEqual({ sets: [], deletes: [], valueBytes: 0 });
    expect(resolveDelta({ set: [['v', bytes(5)]] }, limits).valueBytes).toBe(5);
    expect(() => resolveDelta({ set: [['v', bytes(6)]] }, limits)).toThrow(
      new SessionTooLargeError('the value of "v" is 6 bytes, over the limit of 5'),
    );
  });

  it('refuses keys a PostgreSQL text cannot hold: U+0000 and lone surrogates, in sets and deletes', () => {
    for (const key of ['a\0b', '\ud800', 'x\udfff', '\udc00\ud800']) {
      expect(() => checkStorableKey(key)).toThrow(InvalidArgumentError);
      expect(() => resolveDelta({ delete: [key] }, limits)).toThrow(InvalidArgumentError);
      expect(() => resolveDelta({ set: [[key, bytes(1)]] }, limits)).toThrow(InvalidArgumentError);
    }
    expect(() => checkStorableKey('a\0')).toThrow(
      `the 'postgres' provider cannot store the key "a\\u0000": no U+0000 or lone surrogate in a PostgreSQL text`,
    );
    for (const key of ['😀', 'é', 'plain', '\ud83d\ude00']) expect(() => checkStorableKey(key)).not.toThrow();
  });

  it('checks a new session’s initial values against maxKeys and maxSessionBytes, exactly at the limit', () => {
    const three = resolveDelta(
      {
        set: [
          ['a', bytes(5)],
          ['b', bytes(5)],
          ['c', bytes(5)],
        ],
      },
      limits,
    );
    expect(() => checkInitialSize(three, limits)).not.toThrow(); // 3 keys, 18 bytes
    const four = resolveDelta(
      {
        set: [
          ['a', bytes(1)],
          ['b', bytes(1)],
          ['c', bytes(1)],
          ['d', bytes(1)],
        ],
      },
      limits,
    );
    expect(() => checkInitialSize(four, limits)).toThrow(
      new SessionTooLargeError('the session would hold 4 keys, over the limit of 3'),
    );
    const twenty = resolveDelta(
      {
        set: [
          ['aaaaa', bytes(5)],
          ['bbbbb', bytes(5)],
        ],
      },
      limits,
    );
    expect(() => checkInitialSize(twenty, limits)).not.toThrow();
    const over = resolveDelta(
      {
        set: [
          ['aaaaa', bytes(5)],
          ['ébbbb', bytes(5)],
        ],
      },
      limits,
    );
    expect(() => checkInitialSize(over, limits)).toThrow(
      new SessionTooLargeError('the session would be 21 bytes, over the limit of 20'),
    );
  });
});

describe('postgres batch codec', () => {
  it('lays a batch out as the apply function’s parallel arrays, with the limits capped to an SQL integer', () => {
    const ops: BatchOp[] = [
      {
        kind: OpKind.Init,
        sid: 's1',
        num: 10,
        num2: 20,
        sets: [
          ['a', bytes(1)],
          ['b', bytes(2)],
        ],
      },
      { kind: OpKind.Commit, sid: 's2', sets: [['c', bytes(3)]], deletes: ['d', 'e'] },
      { kind: OpKind.Incr, sid: 's3', arg: 'n', num: 2 },
      { kind: OpKind.Read, sid: 's4' },
    ];
    const huge = { ...limits, maxKeys: 2 ** 40, maxSessionBytes: 2 ** 40, maxValueBytes: 2 ** 40 };
    expect(batchParams(99, ops, huge, 7)).toEqual([
      99,
      [OpKind.Init, OpKind.Commit, OpKind.Incr, OpKind.Read],
      ['s1', 's2', 's3', 's4'],
      [null, null, 'n', null],
      // The binding's arguments (user id, label): a batch without a bind sends them empty.
      [],
      [],
      [10, null, 2, null],
      [20, null, null, null],
      [2, 1, 0, 0],
      ['a', 'b', 'c'],
      [bytes(1), bytes(2), bytes(3)],
      [0, 2, 0, 0],
      ['d', 'e'],
      2_147_483_647,
      2_147_483_647,
      2_147_483_647,
      7,
    ]);
    expect(batchParams(1, [], limits, 1).slice(13)).toEqual([3, 20, 5, 1]);
  });

  const row = applyRow;
  const meta = APPLY_META;

  it('answers each operation from its row, a read with its value rows, and counts the expired', () => {
    const ops: BatchOp[] = [
      { kind: OpKind.Read, sid: 'a' },
      { kind: OpKind.Commit, sid: 'b' },
      { kind: OpKind.Incr, sid: 'c', arg: 'n' },
      { kind: OpKind.Destroy, sid: 'd' },
      { kind: OpKind.Destroy, sid: 'e' },
      { kind: OpKind.Read, sid: 'f' },
      { kind: OpKind.Rename, sid: 'g', arg: 'h' },
    ];
    const rows = [
      row(1, OpStatus.Done, { expired: 2 }),
      row(1, OpStatus.Value, { key: 'k1', value: bytes(1) }),
      row(1, OpStatus.Value, { key: 'k2', value: bytes(2) }),
      row(2, OpStatus.Done),
      row(3, OpStatus.Done, { detail: 7.5 }),
      row(4, OpStatus.Done, { expired: 1 }),
      row(5, OpStatus.Missing),
      row(6, OpStatus.Missing),
      row(7, OpStatus.Missing),
    ];
    const { outcomes, expired } = batchOutcomes(ops, rows, limits);
    expect(expired).toBe(3);
    expect(outcomes).toEqual([
      {
        value: {
          ...meta,
          values: new Map([
            ['k1', bytes(1)],
            ['k2', bytes(2)],
          ]),
        },
      },
      { value: meta },
      { value: 7.5 },
      { value: true },
      { value: false },
      { value: null },
      { value: null },
    ]);
  });

  it('turns each refusal status into its typed error', () => {
    const incr: BatchOp = { kind: OpKind.Incr, sid: 'a', arg: 'hits' };
    const cases: [number, unknown][] = [
      [OpStatus.Taken, new SessionExistsError()],
      [OpStatus.NotANumber, new NotANumberError('incr: the value under "hits" is not a number')],
      [OpStatus.TooManyKeys, new SessionTooLargeError('the session would hold 4 keys, over the limit of 3')],
      [OpStatus.TooManyBytes, new SessionTooLargeError('the session would be 4 bytes, over the limit of 20')],
      [OpStatus.IncrNoKeyRoom, new SessionTooLargeError('incr: the session already holds 4 keys, the limit')],
      [OpStatus.IncrNoByteRoom, new SessionTooLargeError('incr: the session would be over its size limit')],
    ];
    for (const [status, error] of cases) {
      const { outcomes } = batchOutcomes([incr], [row(1, status, { detail: 4 })], limits);
      const outcome = outcomes[0] as { error: Error };
      expect(outcome.error, String(status)).toEqual(error);
      expect(outcome.error.constructor).toBe((error as Error).constructor);
    }
  });

  it('throws on rows that do not match the batch (a bug, never passed to a caller as an answer)', () => {
    const ops: BatchOp[] = [
      { kind: OpKind.Read, sid: 'a' },
      { kind: OpKind.Read, sid: 'b' },
    ];
    expect(() => batchOutcomes(ops, [row(2, OpStatus.Missing)], limits)).toThrow(
      'apply_v2 answered op 2 out of order',
    );
    expect(() => batchOutcomes(ops, [row(3, OpStatus.Missing)], limits)).toThrow('out of order');
    expect(() => batchOutcomes(ops, [row(1, OpStatus.Missing)], limits)).toThrow(
      'apply_v2 answered 1 of 2 operations',
    );
    expect(() => batchOutcomes(ops.slice(0, 1), [row(1, 99)], limits)).toThrow(
      'apply_v2 answered an unknown status 99',
    );
    // A value row after an operation that is not a successful read is not kept anywhere.
    const { outcomes } = batchOutcomes(
      [{ kind: OpKind.Commit, sid: 'a' }],
      [row(1, OpStatus.Done), row(1, OpStatus.Value, { key: 'k', value: bytes(1) })],
      limits,
    );
    expect(outcomes).toEqual([{ value: meta }]);
  });

  it('parses bytea from hex and numbers exactly, whatever the app put in pg.types', () => {
    expect(RESULT_TYPES.getTypeParser(17)('\\x00ff10')).toEqual(Buffer.from([0, 255, 16]));
    for (const oid of [21, 23, 701]) expect(RESULT_TYPES.getTypeParser(oid)('12.5')).toBe(12.5);
    expect(RESULT_TYPES.getTypeParser(25)('text')).toBe('text');
  });
});

describe('postgres options', () => {
  const pool = { connect: async () => undefined } as never;

  it('fills in the defaults, and sizes the pool from the lanes', () => {
    const resolved = resolvePostgresOptions({ connectionString: 'postgres://x' });
    expect(resolved).toMatchObject({
      connectionString: 'postgres://x',
      pool: undefined,
      parallelBatches: 2,
      maxConnections: 4,
      createSchema: true,
      operationTimeoutMs: 3000,
      connectTimeoutMs: 2000,
      gcBatchSize: 1000,
      maxQueuedOps: 65_536,
      maxOpsPerStatement: 256,
    });
    expect(resolved.names.sessions).toBe('"shard_sessions"');
    expect(resolvePostgresOptions({ pool, parallelBatches: 5 }).maxConnections).toBe(7);
    const given = resolvePostgresOptions({
      pool,
      maxConnections: 2,
      parallelBatches: 64,
      tableName: 't',
      schemaName: 's',
      createSchema: false,
      operationTimeoutMs: 2_147_483_647,
      connectTimeoutMs: 1,
      gcBatchSize: 100_000,
      maxQueuedOps: 1,
      maxOpsPerStatement: 10_000,
    });
    expect(given).toMatchObject({
      pool,
      maxConnections: 2,
      parallelBatches: 64,
      createSchema: false,
      operationTimeoutMs: 2_147_483_647,
      connectTimeoutMs: 1,
      gcBatchSize: 100_000,
      maxQueuedOps: 1,
      maxOpsPerStatement: 10_000,
    });
    expect(given.names.sessions).toBe('"s"."t"');
  });

  it.each([
    [{}, "the 'postgres' provider needs exactly one of connectionString and pool"],
    [{ connectionString: 'postgres://x', pool }, 'exactly one of connectionString and pool'],
    [{ connectionString: '' }, 'connectionString must be a non-empty string (postgres://…)'],
    [{ connectionString: 5 }, 'connectionString must be a non-empty string'],
    [{ pool: null }, 'pool must be a pg.Pool (an object with connect())'],
    [{ pool: {} }, 'pool must be a pg.Pool'],
    [{ pool, maxSessions: 10 }, "maxSessions does not apply to the 'postgres' provider"],
    [{ pool, gcSliceMs: 1 }, "gcSliceMs does not apply to the 'postgres' provider"],
    [{ pool, createSchema: 'yes' }, 'createSchema must be a boolean'],
    [{ pool, parallelBatches: 0 }, 'parallelBatches must be an integer from 1 to 64, got 0'],
    [{ pool, parallelBatches: 65 }, 'parallelBatches must be an integer from 1 to 64'],
    [{ pool, maxConnections: 1 }, 'maxConnections must be an integer from 2 to 1000, got 1'],
    [{ pool, maxConnections: 1001 }, 'maxConnections must be an integer from 2 to 1000'],
    [{ pool, operationTimeoutMs: 0 }, 'operationTimeoutMs must be an integer from 1 to 2147483647'],
    [{ pool, operationTimeoutMs: 2 ** 31 }, 'operationTimeoutMs must be an integer from 1 to 2147483647'],
    [{ pool, connectTimeoutMs: 0 }, 'connectTimeoutMs must be an integer from 1 to 2147483647'],
    [{ pool, connectTimeoutMs: 2 ** 31 }, 'connectTimeoutMs must be an integer'],
    [{ pool, gcBatchSize: 0 }, 'gcBatchSize must be an integer from 1 to 100000'],
    [{ pool, gcBatchSize: 100_001 }, 'gcBatchSize must be an integer from 1 to 100000'],
    [{ pool, maxQueuedOps: 0 }, 'maxQueuedOps must be an integer >= 1'],
    [{ pool, maxOpsPerStatement: 0 }, 'maxOpsPerStatement must be an integer from 1 to 10000'],
    [{ pool, maxOpsPerStatement: 10_001 }, 'maxOpsPerStatement must be an integer from 1 to 10000'],
    [{ pool, tableName: '1x' }, 'tableName must be'],
    [{ pool, shards: 2 }, "unknown option 'shards' of the 'postgres' provider"],
  ])('refuses %o', (options, message) => {
    expect(() => resolvePostgresOptions(options as never)).toThrow(InvalidOptionError);
    expect(() => resolvePostgresOptions(options as never)).toThrow(message);
  });
});
