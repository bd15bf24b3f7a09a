import { afterAll, describe, expect, it } from 'vitest';
import { encodeValue } from '../src/codec.js';
import { createPostgresProvider } from '../src/providers/postgres/provider.js';
import { postgresSchemaSql } from '../src/providers/postgres/schema-sql.js';
import { generateSid } from '../src/sid.js';
import { dropSchema, freshSchemaName, testPool } from './support/postgres.js';

// A million expired sessions, deleted by the GC tick in bounded statements while requests keep reading live
// sessions. It takes about a minute and writes ~400 MB to the shared server, so it runs only when asked:
// SHARD_SESSION_MILLION=1 npx vitest run test/postgres-million.test.ts (figures printed at the end).
const EXPIRED = Number(process.env.SHARD_SESSION_MILLION_ROWS ?? 1_000_000);
const LIVE = 1000;
const LONG = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };
const pool = testPool(2);
const schemaName = freshSchemaName('million');

afterAll(async () => {
  await dropSchema(pool, schemaName);
  await pool.end();
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

describe.skipIf(!process.env.SHARD_SESSION_MILLION)("'postgres' GC at a million expired rows", () => {
  it('deletes them in bounded statements while reads of live sessions keep being answered', async () => {
    await pool.query(postgresSchemaSql({ schemaName }));
    const now = Date.now();
    const sessions = `"${schemaName}".shard_sessions`;
    const filled = performance.now();
    // Expired sessions with one small value each, as a crowd of one-visit clients leaves them.
    await pool.query(
      `INSERT INTO ${sessions} (sid, created_at, idle_timeout_ms, idle_expires_at, absolute_expires_at, value_count, value_bytes)
       SELECT 'expired-' || i, $1::float8 - 7200000, 1800000, $1::float8 - 3600000 + (i % 3600000), $1::float8 + 3600000, 1, 6
       FROM generate_series(1, $2) AS i`,
      [now, EXPIRED],
    );
    await pool.query(
      `INSERT INTO "${schemaName}".shard_sessions_values (sid, key, value)
       SELECT 'expired-' || i, 'n', '\\x01'::bytea FROM generate_series(1, $1) AS i`,
      [EXPIRED],
    );
    await pool.query(`VACUUM ANALYZE ${sessions}`);
    const fillMs = performance.now() - filled;

    const provider = createPostgresProvider({ pool, schemaName, gcIntervalMs: 100 });
    const live = Array.from({ length: LIVE }, () => generateSid());
    await Promise.all(live.map((sid) => provider.init(sid, LONG, { set: [['user', encodeValue('ann')]] })));

    // Requests: ten readers in a loop, each reading a live session and timing the answer, until the GC is done.
    const latencies: number[] = [];
    let misses = 0;
    let done = false;
    const readers = Array.from({ length: 10 }, async (_, reader) => {
      for (let i = reader; !done; i += 10) {
        const started = performance.now();
        const snapshot = await provider.read(live[i % LIVE] as string);
        latencies.push(performance.now() - started);
        if (snapshot === null) misses++;
      }
    });
    const swept = performance.now();
    for (;;) {
      const [stats] = await provider.stats();
      if ((stats?.sessions ?? 0) <= LIVE) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const sweepMs = performance.now() - swept;
    done = true;
    await Promise.all(readers);
    const [stats] = await provider.stats();
    await provider.close();

    latencies.sort((a, b) => a - b);
    const figures = {
      expired: EXPIRED,
      fillSeconds: Math.round(fillMs / 100) / 10,
      sweepSeconds: Math.round(sweepMs / 100) / 10,
      rowsPerSecond: Math.round(EXPIRED / (sweepMs / 1000)),
      statements: stats?.gcSweeps,
      longestStatementMs: Math.round(stats?.gcMaxSliceMs ?? 0),
      reads: latencies.length,
      readP50Ms: Math.round(percentile(latencies, 0.5) * 10) / 10,
      readP99Ms: Math.round(percentile(latencies, 0.99) * 10) / 10,
      readMaxMs: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
    };
    console.log(`GC of ${EXPIRED} expired sessions:`, figures);

    expect(stats?.sessions).toBe(LIVE);
    expect(stats?.expired).toBe(EXPIRED);
    // Never one unbounded DELETE: at most gcBatchSize (1,000) rows per statement.
    expect(stats?.gcSweeps).toBeGreaterThanOrEqual(EXPIRED / 1000);
    expect(misses).toBe(0);
    expect(latencies.length).toBeGreaterThan(100);
    const values = await pool.query(`SELECT count(*)::int AS n FROM "${schemaName}".shard_sessions_values`);
    expect(values.rows[0].n).toBe(LIVE);
  }, 600_000);
});
