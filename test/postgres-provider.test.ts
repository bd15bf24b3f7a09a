import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../src/codec.js';
import {
  InvalidArgumentError,
  InvalidOptionError,
  SessionError,
  StoreUnavailableError,
} from '../src/errors.js';
import { createSessionManager } from '../src/manager.js';
import type { PostgresProviderOptions } from '../src/providers/postgres/options.js';
import { createPostgresProvider } from '../src/providers/postgres/provider.js';
import { postgresSchemaSql } from '../src/providers/postgres/schema-sql.js';
import { generateSid } from '../src/sid.js';
import { DATABASE_URL, freshSchemaName, TestProviders, testPool } from './support/postgres.js';

// What is particular to 'postgres' (the contract itself runs in test/contract/postgres.test.ts).
const LONG = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };
const providers = new TestProviders(testPool(8), 'provider');
const { pool, provider } = providers;
afterAll(() => providers.close());

describe("the 'postgres' provider's options", () => {
  it('refuses what would be misread: no or two connections, an unknown option, maxSessions, gcSliceMs', () => {
    const refused: [string, unknown][] = [
      ['neither connection', {}],
      ['both connections', { pool, connectionString: DATABASE_URL }],
      ['an empty URL', { connectionString: '' }],
      ['a pool without connect', { pool: {} }],
      ['an unknown option', { pool, table: 'x' }],
      ['maxSessions', { pool, maxSessions: 10 }],
      ['gcSliceMs', { pool, gcSliceMs: 2 }],
      ['a table name with a quote', { pool, tableName: 'a"b' }],
      ['a table name too long', { pool, tableName: 'x'.repeat(41) }],
      ['a schema name with a dot', { pool, schemaName: 'a.b' }],
      ['createSchema not a boolean', { pool, createSchema: 'yes' }],
      ['a zero timeout', { pool, operationTimeoutMs: 0 }],
      ['a timeout past a timer', { pool, operationTimeoutMs: 2 ** 31 }],
      ['one connection', { connectionString: DATABASE_URL, maxConnections: 1 }],
      ['no lane', { pool, parallelBatches: 0 }],
    ];
    for (const [what, options] of refused) {
      expect(() => createPostgresProvider(options as PostgresProviderOptions), what).toThrow(
        InvalidOptionError,
      );
    }
    expect(() => createPostgresProvider({ pool, maxSessions: 1 } as PostgresProviderOptions)).toThrow(
      /does not evict/,
    );
  });

  it('is registered by name: a manager takes a connection string and shares sessions through it', async () => {
    const schemaName = freshSchemaName('manager');
    providers.dropLater(schemaName);
    const managers = [0, 1].map(() =>
      createSessionManager<{ n: number }>({
        provider: 'postgres',
        providerOptions: { connectionString: DATABASE_URL, schemaName },
      }),
    );
    try {
      const sid = generateSid();
      const [first, second] = managers as [(typeof managers)[0], (typeof managers)[0]];
      await first.provider.init(sid, LONG);
      expect(await first.provider.incr(sid, 'n', 2)).toBe(2);
      expect(await second.provider.incr(sid, 'n', 3)).toBe(5);
      expect(decodeValue((await first.provider.read(sid))?.values.get('n') as Uint8Array)).toBe(5);
    } finally {
      await Promise.all(managers.map((manager) => manager.close()));
    }
  });

  it("takes node-postgres's Pool as its pool (checked by the type checker) and never ends it", async () => {
    const own = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    const options: PostgresProviderOptions = { pool: own, schemaName: freshSchemaName('own') };
    providers.dropLater(options.schemaName as string);
    const built = createPostgresProvider(options);
    await built.init(generateSid(), LONG);
    await built.close();
    expect((await own.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await own.end();
  });
});

describe("the 'postgres' provider's schema", () => {
  it('is created on first use under the table name given, exactly as postgresSchemaSql() prints it', async () => {
    const schemaName = freshSchemaName('named');
    const built = provider({ schemaName, tableName: 'app_sessions' });
    const sid = generateSid();
    await built.init(sid, LONG, { set: [['user', encodeValue('ann')]] });
    const tables = await pool.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schemaName],
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(['app_sessions', 'app_sessions_values']);
    const stored = await pool.query(`SELECT key FROM "${schemaName}".app_sessions_values WHERE sid = $1`, [
      sid,
    ]);
    expect(stored.rows).toEqual([{ key: 'user' }]);
    // The printed SQL names the same functions the provider created.
    const printed = postgresSchemaSql({ tableName: 'app_sessions', schemaName });
    const created = await pool.query(
      `SELECT proname FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY 1`,
      [schemaName],
    );
    const functions = created.rows.map((row) => row.proname as string);
    expect(functions).toContain('app_sessions_apply_v2');
    for (const name of functions) expect(printed).toContain(`"${schemaName}"."${name}"(`);
  });

  it('with createSchema: false, a missing schema fails operations clearly until a migration creates it', async () => {
    const schemaName = freshSchemaName('migrated');
    const built = provider({ schemaName, createSchema: false });
    const sid = generateSid();
    const failure = built.init(sid, LONG);
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toThrow(/postgresSchemaSql/);
    await pool.query(postgresSchemaSql({ schemaName }));
    await built.init(sid, LONG);
    expect(await built.incr(sid, 'n', 1)).toBe(1);
  });

  it('refuses to run under REPEATABLE READ, and says so', async () => {
    const repeatable = new pg.Pool({
      connectionString: DATABASE_URL,
      max: 1,
      options: '-c default_transaction_isolation=repeatable\\ read',
    });
    const schemaName = freshSchemaName('isolation');
    providers.dropLater(schemaName);
    const built = createPostgresProvider({ pool: repeatable, schemaName, gcIntervalMs: 0 });
    await expect(built.read(generateSid())).rejects.toThrow(/READ COMMITTED/);
    await built.close();
    await repeatable.end();
  });

  it('reads correctly through a pool whose connections change bytea and float output and type parsers', async () => {
    const odd = new pg.Pool({
      connectionString: DATABASE_URL,
      max: 2,
      options: '-c bytea_output=escape -c extra_float_digits=-3',
      types: { getTypeParser: () => () => 'parsed by the app' },
    });
    const schemaName = freshSchemaName('parsers');
    providers.dropLater(schemaName);
    const built = createPostgresProvider({ pool: odd, schemaName, gcIntervalMs: 0 });
    const sid = generateSid();
    await built.init(sid, LONG, { set: [['bytes', Uint8Array.of(0, 92, 255)]] });
    expect(await built.incr(sid, 'f', 0.1)).toBe(0.1);
    expect(await built.incr(sid, 'f', 1 / 3)).toBe(0.1 + 1 / 3);
    const snapshot = await built.read(sid);
    expect(Buffer.from(snapshot?.values.get('bytes') as Uint8Array)).toEqual(Buffer.of(0, 92, 255));
    expect(typeof snapshot?.createdAt).toBe('number');
    expect(await built.count()).toBe(1);
    await built.close();
    await odd.end();
  });
});

describe("the 'postgres' provider's keys and batches", () => {
  it('refuses keys PostgreSQL text cannot hold, alone: the rest of the turn is applied', async () => {
    const built = provider();
    const sid = generateSid();
    await built.init(sid, LONG);
    const results = await Promise.allSettled([
      built.commit(sid, { set: [['a\0b', encodeValue(1)]] }),
      built.incr(sid, 'n', 1),
      built.commit(sid, { delete: ['\ud800'] }),
      built.init(generateSid(), LONG, { set: [['x\udc00y', encodeValue(1)]] }),
      built.incr(sid, 'lone\ud83d', 1),
      built.commit(sid, { set: [['🔑', encodeValue('pair')]] }),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'rejected',
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(InvalidArgumentError);
    }
    const values = (await built.read(sid))?.values;
    expect([...(values?.keys() ?? [])].sort()).toEqual(['n', '🔑']);
  });

  it('sends the operations of one turn as one statement, and gathers the next turn while one is out', async () => {
    const built = provider({ parallelBatches: 1 });
    const sids = Array.from({ length: 300 }, () => generateSid());
    await Promise.all(sids.map((sid) => built.init(sid, LONG)));
    const before = (await built.stats())[0];
    // 300 reads and 300 increments in one turn: 600 operations, at most 256 per statement.
    const reads = sids.map((sid) => built.read(sid));
    const counts = sids.map((sid) => built.incr(sid, 'n', 1));
    expect((await Promise.all(reads)).every((snapshot) => snapshot !== null)).toBe(true);
    expect(await Promise.all(counts)).toEqual(sids.map(() => 1));
    const after = (await built.stats())[0];
    expect((after?.ops ?? 0) - (before?.ops ?? 0)).toBe(600);
    expect((after?.batches ?? 0) - (before?.batches ?? 0)).toBe(3);
  });

  it('spreads sessions over parallelBatches lanes, each keeping its sessions in order', async () => {
    const built = provider({ parallelBatches: 4 });
    const sids = Array.from({ length: 64 }, () => generateSid());
    await Promise.all(sids.map((sid) => built.init(sid, LONG)));
    const before = (await built.stats())[0]?.batches ?? 0;
    // Per session, a commit not awaited, then a read, an increment and a read, all in one turn.
    const reads = sids.map((sid, i) => {
      void built.commit(sid, { set: [['i', encodeValue(i)]] });
      const first = built.read(sid);
      void built.incr(sid, 'n', 1);
      return Promise.all([first, built.read(sid)]);
    });
    for (const [i, [first, second]] of (await Promise.all(reads)).entries()) {
      expect(decodeValue(first?.values.get('i') as Uint8Array)).toBe(i);
      expect(first?.values.has('n')).toBe(false);
      expect(decodeValue(second?.values.get('n') as Uint8Array)).toBe(1);
    }
    // 256 operations over 4 lanes: one statement per lane.
    expect(((await built.stats())[0]?.batches ?? 0) - before).toBe(4);
  });

  it('takes limits past the range of an SQL integer (they cannot be reached, but must not fail a batch)', async () => {
    const huge = 2 ** 40;
    const built = provider({ maxKeys: huge, maxSessionBytes: huge, maxValueBytes: huge });
    const sid = generateSid();
    await built.init(sid, LONG, { set: [['a', encodeValue(1)]] });
    expect(await built.commit(sid, { set: [['b', encodeValue(2)]] })).not.toBeNull();
    expect(await built.incr(sid, 'a', 1)).toBe(2);
  });

  it('two providers committing to the same sessions in opposite orders never deadlock', async () => {
    const schemaName = freshSchemaName('deadlock');
    const [a, b] = [provider({ schemaName }), provider({ schemaName })];
    const sids = Array.from({ length: 4 }, () => generateSid());
    await Promise.all(sids.map((sid) => a.init(sid, LONG)));
    const reversed = [...sids].reverse();
    // Each round, both providers send one batch that locks every session, in opposite issue orders.
    for (let round = 0; round < 40; round++) {
      const results = await Promise.allSettled([
        ...sids.map((sid) => a.incr(sid, 'n', 1)),
        ...reversed.map((sid) => b.incr(sid, 'n', 1)),
      ]);
      const failures = results.filter((result) => result.status === 'rejected');
      expect(failures.map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
    }
    for (const sid of sids) {
      expect(decodeValue((await a.read(sid))?.values.get('n') as Uint8Array)).toBe(80);
    }
  });

  it('the GC tick deletes expired sessions in statements of gcBatchSize rows', async () => {
    let time = Date.now();
    const built = provider({ now: () => time, gcIntervalMs: 20, gcBatchSize: 10 });
    const short = { idleTimeoutMs: 10_000, absoluteTimeoutMs: 20_000 };
    await Promise.all(Array.from({ length: 35 }, () => built.init(generateSid(), short)));
    const keep = generateSid();
    await built.init(keep, LONG);
    time += short.idleTimeoutMs;
    const deadline = Date.now() + 10_000;
    let stats = (await built.stats())[0];
    while ((stats?.sessions ?? 0) > 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stats = (await built.stats())[0];
    }
    expect(stats?.sessions).toBe(1);
    expect(stats?.expired).toBe(35);
    expect(stats?.gcSweeps).toBeGreaterThanOrEqual(4); // 10 + 10 + 10 + 5
    expect(await built.read(keep)).not.toBeNull();
  });

  it('answers every failure with a SessionError', async () => {
    const built = provider({ createSchema: false, schemaName: freshSchemaName('absent') });
    const settled = await Promise.allSettled([
      built.read(generateSid()),
      built.count(),
      built.stats(),
      built.gc(),
    ]);
    for (const result of settled) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SessionError);
    }
  });
});
