import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PostgresProviderOptions } from '../../src/providers/postgres/options.js';
import { createPostgresProvider, type PostgresProvider } from '../../src/providers/postgres/provider.js';

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

/**
 * The 'postgres' providers of one test file, over its pool, each in a schema of its own unless one is given.
 * `close()` (in afterAll) closes them, drops every schema they and `dropLater` named, and ends the pool.
 */
export class TestProviders {
  readonly #schemas = new Set<string>();
  readonly #providers: PostgresProvider[] = [];

  constructor(
    readonly pool: pg.Pool,
    readonly prefix: string,
  ) {}

  /** A provider over the pool (no GC tick: tests sweep when they mean to). */
  readonly provider = (options: Partial<PostgresProviderOptions> = {}): PostgresProvider => {
    const schemaName = this.dropLater(options.schemaName ?? freshSchemaName(this.prefix));
    const built = createPostgresProvider({ pool: this.pool, gcIntervalMs: 0, ...options, schemaName });
    this.#providers.push(built);
    return built;
  };

  /** Drops `schema` at `close()`: for schemas a test makes by other means. */
  dropLater(schema: string): string {
    this.#schemas.add(schema);
    return schema;
  }

  async close(): Promise<void> {
    await Promise.all(this.#providers.map((provider) => provider.close()));
    for (const schema of this.#schemas) await dropSchema(this.pool, schema);
    await this.pool.end();
  }
}
