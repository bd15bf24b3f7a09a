import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL the tests use: the machine's server (trust auth, database `test`) unless
 * SHARD_SESSION_TEST_DATABASE_URL names another. Each test works in a schema of its own, dropped afterwards,
 * so runs (and engineers sharing the server) never see each other's rows.
 */
export const DATABASE_URL =
  process.env.SHARD_SESSION_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A pool for a test file: give it to providers (`pool` option) and to the helpers below; end it in afterAll. */
export function testPool(max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max, allowExitOnIdle: true });
  pool.on('error', () => {}); // a server-side disconnect of an idle client must not crash the run
  return pool;
}

/** A fresh schema name, `[a-z0-9_]`, that no other run uses. */
export function freshSchemaName(prefix = 'test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Drops a test's schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(schema)) throw new Error(`not a test schema name: ${schema}`);
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
