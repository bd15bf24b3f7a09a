import { createRequire } from 'node:module';
import { InvalidOptionError } from '../../errors.js';
import type { PostgresPool } from './options.js';

/** A pool the provider opened itself, so it also ends it. */
export interface OwnPool extends PostgresPool {
  end(): Promise<void>;
}

/** The part of node-postgres the provider uses when it opens its own pool. */
interface PgModule {
  Pool: new (
    config: Record<string, unknown>,
  ) => OwnPool & {
    on(event: 'error', listener: (error: Error) => void): unknown;
  };
}

export interface OwnPoolOptions {
  readonly connectionString: string;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  readonly operationTimeoutMs: number;
}

/**
 * Opens a pool of node-postgres connections. `pg` is an optional peer dependency, loaded only here: an app
 * that never builds a 'postgres' provider from a connection string does not need it installed.
 */
export function openOwnPool(options: OwnPoolOptions): OwnPool {
  let pg: PgModule;
  try {
    pg = createRequire(import.meta.url)('pg') as PgModule;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new InvalidOptionError(
      "the 'postgres' provider needs the 'pg' package (node-postgres): npm install pg",
    );
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // The server gives up on a statement when the provider does, so a batch it reported as failed does
    // not go on to change sessions behind later ones.
    statement_timeout: options.operationTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Idle connections must not keep a process alive that has nothing else to do.
    allowExitOnIdle: true,
    keepAlive: true,
    application_name: 'shard-session',
  });
  // An idle connection that dies (the server restarted) is dropped by the pool, and the next batch opens a
  // new one. Without a listener, node-postgres would crash the process with the error.
  pool.on('error', () => {});
  return pool;
}
