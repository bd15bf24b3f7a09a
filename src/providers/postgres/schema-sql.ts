import { batchSql } from './batch-sql.js';
import { operationsSql } from './operations-sql.js';
import { type SchemaNames, schemaNames } from './schema-names.js';
import { tablesSql } from './tables-sql.js';
import { userColumnsSql } from './user-sql.js';

/** Which tables {@link postgresSchemaSql} writes the SQL for. */
export interface PostgresSchemaOptions {
  /** Default `'shard_sessions'` (the values table is `<tableName>_values`). */
  readonly tableName?: string;
  /** Default: none, the connection's `search_path` decides. */
  readonly schemaName?: string;
}

/**
 * The SQL that creates the 'postgres' provider's tables, index and functions, exactly as the provider runs
 * it on first use. For managed migrations: put its output in a migration, and pass `createSchema: false`.
 * Every statement is idempotent, so running it again (after an upgrade) is safe.
 *
 * ```ts
 * import { postgresSchemaSql } from 'shard-session';
 * console.log(postgresSchemaSql({ tableName: 'shard_sessions' }));
 * ```
 */
export function postgresSchemaSql(options: PostgresSchemaOptions = {}): string {
  return schemaSql(schemaNames(options.tableName, options.schemaName));
}

/** Every statement of the schema, for these names. */
export function schemaSql(names: SchemaNames): string {
  return [tablesSql(names), userColumnsSql(names), operationsSql(names), batchSql(names)].join('\n');
}
