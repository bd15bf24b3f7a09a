import { InvalidOptionError } from '../../errors.js';
import type { ProviderOptions } from '../provider.js';
import { integerOption, type ResolvedProviderOptions, resolveProviderOptions } from '../provider-options.js';
import { type SchemaNames, schemaNames } from './schema-names.js';

/**
 * What the provider needs of a connection pool: the shape of node-postgres's `pg.Pool`, typed here so that
 * shard-session's types never import the client's. Any `new pg.Pool(...)` fits.
 */
export interface PostgresPool {
  connect(): Promise<PostgresPoolClient>;
}

/** A connection checked out of a {@link PostgresPool} (node-postgres's `PoolClient`). */
export interface PostgresPoolClient {
  query(config: PostgresQuery): Promise<{ rows: unknown[]; rowCount: number | null }>;
  /** Gives the connection back; with an error, the pool closes it instead. */
  release(error?: Error | boolean): void;
  /** A checked-out connection that dies emits 'error': unheard, node-postgres would crash the process. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/** A query as node-postgres takes it: a prepared statement's name, its text and parameters, and parsers. */
export interface PostgresQuery {
  readonly name?: string;
  readonly text: string;
  readonly values?: unknown[];
  readonly types?: { getTypeParser(oid: number, format?: string): (value: string) => unknown };
}

/** Options of the 'postgres' provider. Give `connectionString` or `pool`. */
export interface PostgresProviderOptions extends Omit<ProviderOptions, 'maxSessions' | 'gcSliceMs'> {
  /** A `postgres://` URL: the provider opens its own pool (needs the `pg` package) and closes it on `close()`. */
  readonly connectionString?: string;
  /**
   * A `pg.Pool` the app already has. The provider borrows one connection per batch and gives it back; it
   * never ends the pool. Listen to the pool's `'error'` event (node-postgres requires it of every pool).
   */
  readonly pool?: PostgresPool;
  /**
   * Batches out at once, each on a connection of its own; an id always goes to the same one, so its
   * operations keep their order. Default 2.
   */
  readonly parallelBatches?: number;
  /** Connections of the provider's own pool (with `connectionString`). Default `parallelBatches + 2` (GC, count). */
  readonly maxConnections?: number;
  /** The sessions table; the values table is `<tableName>_values`. Default `'shard_sessions'`. */
  readonly tableName?: string;
  /** The schema of the tables and functions (created if absent). Default: the connection's `search_path`. */
  readonly schemaName?: string;
  /** Create the schema on first use when absent. Default true; false for managed migrations (`postgresSchemaSql()`). */
  readonly createSchema?: boolean;
  /**
   * An operation not answered within this many ms rejects `StoreUnavailableError` (the database is down or
   * stuck); its connection is closed, and the next operation opens a new one. Default 3,000.
   */
  readonly operationTimeoutMs?: number;
  /** Opening a connection of the provider's own pool gives up after this many ms. Default 2,000. */
  readonly connectTimeoutMs?: number;
  /** Sessions removed per GC statement: the bound on one DELETE's locks and WAL. Default 1,000. */
  readonly gcBatchSize?: number;
  /** Operations queued or in flight; past it, calls reject with `OverloadedError`. Default 65,536. */
  readonly maxQueuedOps?: number;
  /** A statement carries at most this many operations (more wait for the next). Default 256. */
  readonly maxOpsPerStatement?: number;
}

/**
 * Operations queued or in flight at once by default: a database that stalls fills this in a few seconds
 * of heavy traffic; past it, calls fail fast with `OverloadedError` instead of holding memory.
 */
export const DEFAULT_POSTGRES_MAX_QUEUED_OPS = 65_536;

/** The options checked, with every default filled in. */
export interface ResolvedPostgresOptions extends ResolvedProviderOptions {
  readonly connectionString: string | undefined;
  readonly pool: PostgresPool | undefined;
  readonly maxConnections: number;
  readonly parallelBatches: number;
  readonly names: SchemaNames;
  readonly createSchema: boolean;
  readonly operationTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly gcBatchSize: number;
  readonly maxQueuedOps: number;
  readonly maxOpsPerStatement: number;
}

const MAX_TIMEOUT_MS = 2_147_483_647;

const OWN_OPTION_NAMES = [
  'connectionString',
  'pool',
  'maxConnections',
  'parallelBatches',
  'tableName',
  'schemaName',
  'createSchema',
  'operationTimeoutMs',
  'connectTimeoutMs',
  'gcBatchSize',
  'maxQueuedOps',
  'maxOpsPerStatement',
];

/** Checks every option of the 'postgres' provider; a bad one throws `InvalidOptionError` naming it. */
export function resolvePostgresOptions(options: PostgresProviderOptions = {}): ResolvedPostgresOptions {
  const common = resolveProviderOptions('postgres', options, OWN_OPTION_NAMES);
  const given = options as PostgresProviderOptions & { maxSessions?: unknown; gcSliceMs?: unknown };
  // Accepted by the other providers, but they would be lies here: say so instead of ignoring them.
  if (given.maxSessions !== undefined) {
    throw new InvalidOptionError(
      "maxSessions does not apply to the 'postgres' provider: it does not evict (the table holds what the disk does; the GC removes expired sessions)",
    );
  }
  if (given.gcSliceMs !== undefined) {
    throw new InvalidOptionError(
      "gcSliceMs does not apply to the 'postgres' provider: its GC is bounded per statement by gcBatchSize",
    );
  }
  const { connectionString, pool } = options;
  if ((connectionString === undefined) === (pool === undefined)) {
    throw new InvalidOptionError("the 'postgres' provider needs exactly one of connectionString and pool");
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw new InvalidOptionError('connectionString must be a non-empty string (postgres://…)');
  }
  if (pool !== undefined && (pool === null || typeof (pool as PostgresPool).connect !== 'function')) {
    throw new InvalidOptionError('pool must be a pg.Pool (an object with connect())');
  }
  const createSchema = options.createSchema ?? true;
  const parallelBatches = integerOption('parallelBatches', options.parallelBatches, 2, 1, 64);
  if (typeof createSchema !== 'boolean') throw new InvalidOptionError('createSchema must be a boolean');
  return {
    ...common,
    connectionString,
    pool,
    maxConnections: integerOption('maxConnections', options.maxConnections, parallelBatches + 2, 2, 1000),
    parallelBatches,
    names: schemaNames(options.tableName, options.schemaName),
    createSchema,
    // Timers (setTimeout) and PostgreSQL's timeouts both stop at 2^31 - 1 ms.
    operationTimeoutMs: integerOption(
      'operationTimeoutMs',
      options.operationTimeoutMs,
      3000,
      1,
      MAX_TIMEOUT_MS,
    ),
    connectTimeoutMs: integerOption('connectTimeoutMs', options.connectTimeoutMs, 2000, 1, MAX_TIMEOUT_MS),
    gcBatchSize: integerOption('gcBatchSize', options.gcBatchSize, 1000, 1, 100_000),
    maxQueuedOps: integerOption('maxQueuedOps', options.maxQueuedOps, DEFAULT_POSTGRES_MAX_QUEUED_OPS, 1),
    maxOpsPerStatement: integerOption('maxOpsPerStatement', options.maxOpsPerStatement, 256, 1, 10_000),
  };
}
