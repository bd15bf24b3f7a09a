import { describe, expect, it } from 'vitest';
import { ClosedError, OverloadedError, StoreUnavailableError } from '../src/errors.js';
import { EventBatches } from '../src/providers/event-batches.js';
import type { BatchOp } from '../src/providers/postgres/batch-codec.js';
import { BatchLanes } from '../src/providers/postgres/batch-lanes.js';
import {
  BatchQueue,
  type BatchQueueOptions,
  type PostgresCounters,
} from '../src/providers/postgres/batch-queue.js';
import { OpKind, OpStatus } from '../src/providers/postgres/batch-sql.js';
import { Connections, type QueryResult } from '../src/providers/postgres/connections.js';
import type { PostgresPoolClient, PostgresQuery } from '../src/providers/postgres/options.js';
import { openOwnPool } from '../src/providers/postgres/own-pool.js';
import { schemaNames } from '../src/providers/postgres/schema-names.js';
import { SchemaSetup } from '../src/providers/postgres/schema-setup.js';
import { schemaSql } from '../src/providers/postgres/schema-sql.js';
import { EventCode } from '../src/providers/postgres/user-sql.js';
import type { SessionEvent } from '../src/providers/provider.js';
import { DEFAULT_LIMITS } from '../src/providers/provider-options.js';
import { shardOf } from '../src/providers/sharded/shard-hash.js';
import { generateSid } from '../src/sid.js';

// The 'postgres' provider's channel to the database, without a server: the batch queue (one statement out at
// a time, a turn's operations in one, answers back to the right caller, deadlines for what waits behind a
// batch the database does not answer), its lanes, the connection handling (time limits, a failed connection
// closed rather than reused), the schema setup and the pool it opens. The fakes stand where node-postgres
// and the server would; postgres-provider.test.ts and postgres-failures.test.ts run the same code on a real
// PostgreSQL.

/** A promise and its resolvers. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A row of apply_v2 for an incr: its answer (`detail`) is the amount it was sent, so answers can be traced. */
const incrRow = (op: number, detail: number, expired = 0) => ({
  op,
  status: OpStatus.Done,
  created_at: null,
  idle_expires_at: null,
  absolute_expires_at: null,
  detail,
  expired,
  key: null,
  value: null,
  user_id: null,
  handle: null,
  label: null,
});

const incr = (sid: string, by: number): BatchOp => ({ kind: OpKind.Incr, sid, arg: 'n', num: by });

/** Connections whose queries the test answers one by one. */
function fakeConnections() {
  const queries: {
    query: PostgresQuery;
    doing: string;
    timeoutMs: number;
    answer: ReturnType<typeof deferred<QueryResult>>;
  }[] = [];
  const connections = {
    query(query: PostgresQuery, doing: string, timeoutMs: number): Promise<QueryResult> {
      const answer = deferred<QueryResult>();
      queries.push({ query, doing, timeoutMs, answer });
      return answer.promise;
    },
  } as unknown as Connections;
  /** Answers query `i` as apply_v2 would: each incr with its own amount. */
  const answerEcho = (i: number, expired = 0) => {
    const q = queries[i];
    if (!q) throw new Error(`no query ${i}`);
    const nums = q.query.values?.[6] as number[];
    q.answer.resolve({
      rows: nums.map((n, j) => incrRow(j + 1, n, j === 0 ? expired : 0)),
      rowCount: nums.length,
    });
  };
  return { connections, queries, answerEcho };
}

function queueWith(overrides: Partial<BatchQueueOptions> = {}) {
  const fake = fakeConnections();
  const counters: PostgresCounters = { ops: 0, batches: 0, expired: 0, gcSweeps: 0, gcMaxSliceMs: 0 };
  const readyCalls: number[] = [];
  const events = new EventBatches();
  const options: BatchQueueOptions = {
    connections: fake.connections,
    names: schemaNames('t'),
    limits: DEFAULT_LIMITS,
    now: () => 5000,
    operationTimeoutMs: 10_000,
    maxOpsPerStatement: 3,
    ready: async (timeoutMs) => {
      readyCalls.push(timeoutMs);
    },
    counters,
    events,
    ...overrides,
  };
  return { queue: new BatchQueue(options), counters, readyCalls, events, ...fake };
}

describe('postgres batch queue', () => {
  it('sends a turn’s operations as one statement, in lock order, and answers each caller with its own row', async () => {
    const { queue, queries, answerEcho, counters, readyCalls } = queueWith({ maxOpsPerStatement: 10 });
    const [a, b] = [generateSid(), generateSid()].sort();
    const answers = [
      queue.call(incr(b as string, 1)),
      queue.call(incr(a as string, 2)),
      queue.call(incr(b as string, 3)),
    ];
    expect(queue.depth).toBe(3);
    await nextTurn();
    expect(queries).toHaveLength(1);
    const [query] = queries;
    expect(query?.doing).toBe('applying a batch');
    expect(query?.query.name).toMatch(/^shard_session_[0-9a-f]{16}$/);
    expect(query?.query.text).toContain(`FROM ${schemaNames('t').fn('apply_v2')}($1, $2,`);
    expect(query?.query.text).toContain('$17)');
    const values = query?.query.values as unknown[];
    expect(values[0]).toBe(5000);
    expect(values[2]).toEqual([a, b, b]); // sessions in id order, each one's operations in issue order
    expect(values[6]).toEqual([2, 1, 3]);
    expect(values[16]).toBe(5000); // the lock timeout: half of operationTimeoutMs
    expect(query?.timeoutMs).toBeGreaterThan(9000);
    expect(query?.timeoutMs).toBeLessThanOrEqual(10_000);
    expect(readyCalls).toHaveLength(1);
    expect(readyCalls[0]).toBeGreaterThan(9000);
    expect(counters).toMatchObject({ batches: 1, ops: 3 });
    answerEcho(0, 4);
    expect(await Promise.all(answers)).toEqual([1, 2, 3]);
    expect(counters.expired).toBe(4);
    expect(queue.depth).toBe(0);
  });

  it('keeps one statement out at a time; what arrives meanwhile leaves in the next, maxOpsPerStatement at most', async () => {
    const { queue, queries, answerEcho } = queueWith({ maxOpsPerStatement: 2 });
    const sid = generateSid();
    const first = [1, 2, 3].map((n) => queue.call(incr(sid, n)));
    await nextTurn();
    expect(queries.map((q) => q.query.values?.[6])).toEqual([[1, 2]]);
    const later = queue.call(incr(sid, 4));
    await nextTurn();
    expect(queries).toHaveLength(1); // the first statement has not answered
    expect(queue.depth).toBe(4);
    answerEcho(0);
    await nextTurn();
    await nextTurn();
    expect(queries.map((q) => q.query.values?.[6])).toEqual([
      [1, 2],
      [3, 4],
    ]);
    answerEcho(1);
    expect(await Promise.all([...first, later])).toEqual([1, 2, 3, 4]);
  });

  it('caps a statement at 4 MiB of values, but sends a bigger single operation alone', async () => {
    const { queue, queries, answerEcho } = queueWith({ maxOpsPerStatement: 10 });
    const sid = generateSid();
    const MiB = 1024 * 1024;
    const calls = [
      queue.call(incr(sid, 1), 5 * MiB),
      queue.call(incr(sid, 2), 2 * MiB),
      queue.call(incr(sid, 3), 2 * MiB),
      queue.call(incr(sid, 4), 1),
    ];
    for (let i = 0; i < 3; i++) {
      await nextTurn();
      answerEcho(i);
      await nextTurn();
    }
    expect(queries.map((q) => q.query.values?.[6])).toEqual([[1], [2, 3], [4]]);
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4]);
  });

  it('rejects every operation of a failed batch with StoreUnavailableError, and goes on with the next', async () => {
    const { queue, queries, answerEcho } = queueWith();
    const sid = generateSid();
    const failed = [queue.call(incr(sid, 1)), queue.call(incr(sid, 2))];
    await nextTurn();
    queries[0]?.answer.reject(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    for (const answer of failed) {
      await expect(answer).rejects.toThrow(StoreUnavailableError);
      await expect(answer).rejects.toThrow('applying a batch failed: deadlock detected (SQLSTATE 40P01)');
    }
    const next = queue.call(incr(sid, 7));
    await nextTurn();
    answerEcho(1);
    expect(await next).toBe(7);
  });

  it('hands a typed refusal to its caller only, and the batch’s events to the receiver', async () => {
    const { queue, queries, events } = queueWith();
    const got: (readonly SessionEvent[])[] = [];
    events.listen((batch) => got.push(batch));
    const sid = generateSid();
    const refused = queue.call(incr(sid, 1));
    const done = queue.call(incr(sid, 2));
    await nextTurn();
    queries[0]?.answer.resolve({
      rows: [
        { ...incrRow(1, 0), status: OpStatus.NotANumber },
        { ...incrRow(0, EventCode.Created), status: OpStatus.Event, user_id: 'alice', handle: 'h' },
        incrRow(2, 9),
      ],
      rowCount: 3,
    });
    await expect(refused).rejects.toThrow('incr: the value under "n" is not a number');
    expect(await done).toBe(9);
    await nextTurn();
    expect(got).toEqual([[{ type: 'created', reason: 'login', userId: 'alice', handle: 'h' }]]);
  });

  it('rejects what waits behind an unanswered batch when its time is up, and serves it no more', async () => {
    const { queue, queries } = queueWith({ operationTimeoutMs: 30, maxOpsPerStatement: 1 });
    const sid = generateSid();
    const stuck = queue.call(incr(sid, 1));
    const behind = [queue.call(incr(sid, 2)), queue.call(incr(sid, 3))];
    for (const answer of behind) {
      await expect(answer).rejects.toThrow(
        'postgres: no answer within 30 ms (queued behind a batch the database has not answered)',
      );
    }
    expect(queue.depth).toBe(1); // only the statement out
    queries[0]?.answer.resolve({ rows: [incrRow(1, 1)], rowCount: 1 });
    expect(await stuck).toBe(1);
    await nextTurn();
    expect(queries).toHaveLength(1); // the expired ones were never sent
    await queue.drained();
  });

  it('drained() waits for every operation issued so far; close() refuses new ones and waits for the rest', async () => {
    const { queue, queries, answerEcho } = queueWith();
    await queue.drained();
    const sid = generateSid();
    const answer = queue.call(incr(sid, 1));
    let drained = false;
    const waiting = queue.drained().then(() => {
      drained = true;
    });
    const closing = queue.close();
    await expect(queue.call(incr(sid, 2))).rejects.toThrow(ClosedError);
    await nextTurn();
    expect(drained).toBe(false);
    answerEcho(0);
    await waiting;
    await closing;
    expect(await answer).toBe(1);
    expect(queries).toHaveLength(1);
  });

  it('drained() waits for operations of later statements too, not only the one out', async () => {
    const { queue, queries, answerEcho } = queueWith({ maxOpsPerStatement: 1 });
    const sid = generateSid();
    const answers = [queue.call(incr(sid, 1)), queue.call(incr(sid, 2))];
    let drained = false;
    const waiting = queue.drained().then(() => {
      drained = true;
    });
    await nextTurn();
    answerEcho(0);
    await nextTurn();
    await nextTurn();
    expect(queries).toHaveLength(2);
    expect(drained).toBe(false);
    answerEcho(1);
    await waiting;
    expect(await Promise.all(answers)).toEqual([1, 2]);
  });
});

describe('postgres batch lanes', () => {
  it('sends an id always to the same lane, counts the depth over all, and refuses past maxQueuedOps', async () => {
    const fake = fakeConnections();
    const options = {
      connections: fake.connections,
      names: schemaNames(),
      limits: DEFAULT_LIMITS,
      now: () => 1,
      operationTimeoutMs: 10_000,
      maxOpsPerStatement: 100,
      ready: async () => undefined,
      counters: { ops: 0, batches: 0, expired: 0, gcSweeps: 0, gcMaxSliceMs: 0 },
      events: new EventBatches(),
    };
    const lanes = new BatchLanes(3, options, 4);
    const sids = Array.from({ length: 3 }, () => generateSid());
    const calls = sids.map((sid, i) => lanes.call(incr(sid, i)));
    calls.push(lanes.call(incr(sids[0] as string, 10)));
    expect(lanes.depth).toBe(4);
    await expect(lanes.call(incr(sids[1] as string, 1))).rejects.toThrow(
      new OverloadedError("the 'postgres' provider has 4 queued operations (maxQueuedOps)"),
    );
    await nextTurn();
    // One statement per lane that has operations; an id's operations in one lane, together.
    const lanesUsed = new Set(sids.map((sid) => shardOf(sid, 3)));
    expect(fake.queries).toHaveLength(lanesUsed.size);
    const sidsOf = (q: { query: PostgresQuery } | undefined) => (q?.query.values ?? [])[2] as string[];
    const first = fake.queries.find((q) => sidsOf(q).includes(sids[0] as string));
    expect(sidsOf(first).filter((sid) => sid === sids[0])).toHaveLength(2);
    let drained = false;
    const draining = lanes.drained().then(() => {
      drained = true;
    });
    for (let i = 0; i < fake.queries.length - 1; i++) fake.answerEcho(i);
    await nextTurn();
    expect(drained).toBe(false);
    fake.answerEcho(fake.queries.length - 1);
    await draining;
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 10]);
    // close() waits for what its lanes have out.
    const last = lanes.call(incr(sids[0] as string, 5));
    await nextTurn();
    let closed = false;
    const closing = lanes.close().then(() => {
      closed = true;
    });
    await expect(lanes.call(incr(sids[0] as string, 1))).rejects.toThrow(ClosedError);
    await nextTurn();
    expect(closed).toBe(false);
    fake.answerEcho(fake.queries.length - 1);
    await closing;
    expect(await last).toBe(5);
  });
});

/** A pool whose one connection the test drives. */
function fakePool(connect: () => Promise<PostgresPoolClient>): {
  connect: () => Promise<PostgresPoolClient>;
} {
  return { connect };
}

function fakeClient(answer: () => Promise<QueryResult>) {
  const released: (Error | boolean | undefined)[] = [];
  const listeners = new Set<(error: Error) => void>();
  const client: PostgresPoolClient = {
    query: () => answer(),
    release: (error) => {
      released.push(error);
    },
    on: (event, listener) => event === 'error' && listeners.add(listener),
    removeListener: (event, listener) => event === 'error' && listeners.delete(listener),
  };
  return { client, released, listeners };
}

describe('postgres connections', () => {
  const q = { text: 'SELECT 1' };

  it('gives a connection back after a query, without the listener it put on while it was busy', async () => {
    const result = { rows: [1], rowCount: 1 };
    let during = 0;
    const conn = fakeClient(async () => {
      during = conn.listeners.size;
      return result;
    });
    const connections = new Connections(fakePool(async () => conn.client));
    expect(await connections.query(q, 'reading', 1000)).toBe(result);
    expect(during).toBe(1);
    expect(conn.listeners.size).toBe(0);
    expect(conn.released).toEqual([undefined]);
  });

  it('closes a connection that broke, keeps one whose statement was refused, and names the work', async () => {
    const broken = fakeClient(() => Promise.reject(new Error('Connection terminated unexpectedly')));
    await expect(
      new Connections(fakePool(async () => broken.client)).query(q, 'applying a batch', 1000),
    ).rejects.toThrow(
      new StoreUnavailableError('postgres: applying a batch failed: Connection terminated unexpectedly'),
    );
    expect(broken.released).toEqual([new Error('Connection terminated unexpectedly')]);

    const refused = fakeClient(() =>
      Promise.reject(Object.assign(new Error('value too long'), { code: '22001' })),
    );
    await expect(new Connections(fakePool(async () => refused.client)).query(q, 'x', 1000)).rejects.toThrow(
      'postgres: x failed: value too long (SQLSTATE 22001)',
    );
    expect(refused.released).toEqual([undefined]);

    const notAnError = fakeClient(() => Promise.reject('socket hang up'));
    await expect(
      new Connections(fakePool(async () => notAnError.client)).query(q, 'x', 1000),
    ).rejects.toThrow(StoreUnavailableError);
    expect(notAnError.released).toEqual([new Error('socket hang up')]);

    const throws = fakeClient(() => {
      throw new Error('Client was closed and is not queryable');
    });
    await expect(new Connections(fakePool(async () => throws.client)).query(q, 'x', 1000)).rejects.toThrow(
      'postgres: x failed: Client was closed and is not queryable',
    );
    expect(throws.released).toHaveLength(1);
    expect(throws.released[0]).toBeInstanceOf(Error);
  });

  it('says when it could not connect', async () => {
    const connections = new Connections(
      fakePool(() => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:1'))),
    );
    await expect(connections.query(q, 'checking the schema', 1000)).rejects.toThrow(
      'postgres: checking the schema (connecting) failed: ECONNREFUSED 127.0.0.1:1',
    );
  });

  it('gives up on a query past its time, closes its connection, and ignores its late answer', async () => {
    const late = deferred<QueryResult>();
    const conn = fakeClient(() => late.promise);
    const connections = new Connections(fakePool(async () => conn.client));
    await expect(connections.query(q, 'applying a batch', 20)).rejects.toThrow(
      new StoreUnavailableError('postgres: applying a batch: no answer within 20 ms'),
    );
    expect(conn.released).toEqual([new Error('shard-session: query given up')]);
    expect(conn.listeners.size).toBe(1); // its dying words go unheard
    late.resolve({ rows: [], rowCount: 0 });
    await nextTurn();
    expect(conn.released).toHaveLength(1);

    const failsLate = deferred<QueryResult>();
    const conn2 = fakeClient(() => failsLate.promise);
    await expect(new Connections(fakePool(async () => conn2.client)).query(q, 'x', 20)).rejects.toThrow(
      'no answer within 20 ms',
    );
    failsLate.reject(new Error('terminated'));
    await nextTurn();
    expect(conn2.released).toHaveLength(1);
  });

  it('gives back, unused, a connection that came after the query was given up; a late connect failure is ignored', async () => {
    const slow = deferred<PostgresPoolClient>();
    let queried = false;
    const conn = fakeClient(async () => {
      queried = true;
      return { rows: [], rowCount: 0 };
    });
    await expect(new Connections(fakePool(() => slow.promise)).query(q, 'x', 20)).rejects.toThrow(
      'postgres: x: no answer within 20 ms',
    );
    slow.resolve(conn.client);
    await nextTurn();
    expect(queried).toBe(false);
    expect(conn.released).toEqual([undefined]);
    expect(conn.listeners.size).toBe(0);

    const slowFail = deferred<PostgresPoolClient>();
    await expect(new Connections(fakePool(() => slowFail.promise)).query(q, 'x', 20)).rejects.toThrow(
      'no answer within 20 ms',
    );
    slowFail.reject(new Error('ECONNREFUSED'));
    await nextTurn();
  });
});

describe('postgres schema setup', () => {
  const names = schemaNames('tbl', 'app');
  const check = `SELECT * FROM ${names.fn('apply_v2')}(0, ${Array(12).fill("'{}'").join(', ')}, 1, 1, 1, 1);`;

  function setup(create: boolean, fail = 0) {
    const queries: { text: string; doing: string; timeoutMs: number }[] = [];
    const gate = deferred<void>();
    let failures = fail;
    const connections = {
      async query(query: PostgresQuery, doing: string, timeoutMs: number) {
        queries.push({ text: query.text, doing, timeoutMs });
        await gate.promise;
        if (failures-- > 0) throw new StoreUnavailableError('postgres: down');
        return { rows: [], rowCount: 0 };
      },
    } as unknown as Connections;
    return { schema: new SchemaSetup(connections, names, create), queries, open: () => gate.resolve() };
  }

  it('creates the schema under an advisory lock, then checks it with an empty batch, once', async () => {
    const { schema, queries, open } = setup(true);
    const first = schema.ready(700);
    const second = schema.ready(800);
    open();
    await Promise.all([first, second]);
    await schema.ready(900);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.doing).toBe('creating the schema');
    expect(queries[0]?.timeoutMs).toBe(700);
    expect(queries[0]?.text).toBe(
      `SELECT pg_advisory_xact_lock(hashtext('shard-session ${names.sessions}'));\n${schemaSql(names)}\n${check}`,
    );
    expect(check).toBe(
      `SELECT * FROM "app"."tbl_apply_v2"(0, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', 1, 1, 1, 1);`,
    );
  });

  it('only checks a schema a migration made, and tries again after a failure', async () => {
    const { schema, queries, open } = setup(false, 1);
    open();
    await expect(schema.ready(50)).rejects.toThrow('postgres: down');
    await schema.ready(60);
    await schema.ready(70);
    expect(queries).toEqual([
      { text: check, doing: 'checking the schema', timeoutMs: 50 },
      { text: check, doing: 'checking the schema', timeoutMs: 60 },
    ]);
  });
});

describe('postgres own pool', () => {
  it('opens a node-postgres pool with the provider’s limits, that does not hold the process open', async () => {
    const pool = openOwnPool({
      connectionString: 'postgres://u@127.0.0.1:1/db',
      maxConnections: 7,
      connectTimeoutMs: 300,
      operationTimeoutMs: 900,
    }) as unknown as {
      options: Record<string, unknown>;
      listenerCount(event: string): number;
      emit(event: string, error: Error): boolean;
      end(): Promise<void>;
    };
    try {
      expect(pool.options).toMatchObject({
        connectionString: 'postgres://u@127.0.0.1:1/db',
        max: 7,
        connectionTimeoutMillis: 300,
        statement_timeout: 900,
        idleTimeoutMillis: 30_000,
        allowExitOnIdle: true,
        keepAlive: true,
        application_name: 'shard-session',
      });
      // An idle connection's death is heard (and dropped by the pool), not thrown at the process.
      expect(pool.listenerCount('error')).toBe(1);
      expect(() => pool.emit('error', new Error('terminating connection'))).not.toThrow();
    } finally {
      await pool.end();
    }
  });
});
