import { InvalidOptionError } from '../../errors.js';

/**
 * The names of every object the 'postgres' provider creates, derived from one table name (and an optional
 * schema). Objects whose shape may change between releases carry a version suffix (`_v1`, `_v2`): a new release
 * installs `_v2` next to them, so processes of both versions can run against one database during a rolling
 * deploy.
 */
export interface SchemaNames {
  /** The sessions table, quoted and qualified: one row per session. */
  readonly sessions: string;
  /** The values table, quoted and qualified: one row per key of a session. */
  readonly values: string;
  /** The index of deadlines (unqualified: an index lives in its table's schema). */
  readonly expiryIndex: string;
  /** The partial index of bound sessions by user (unqualified, like the deadline index). */
  readonly userIndex: string;
  /** The schema, quoted, when one was named (else the connection's `search_path` decides). */
  readonly schema: string | undefined;
  /** Quotes and qualifies `<table>_<suffix>`: the name of one of the provider's functions. */
  fn(suffix: string): string;
}

export const DEFAULT_TABLE_NAME = 'shard_sessions';

/** Table names are plain identifiers, short enough for every derived name to fit PostgreSQL's 63 bytes. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks the table and schema names (`InvalidOptionError` for a bad one) and derives every object's name. */
export function schemaNames(tableName: unknown = DEFAULT_TABLE_NAME, schemaName?: unknown): SchemaNames {
  if (typeof tableName !== 'string' || !TABLE_NAME.test(tableName)) {
    throw new InvalidOptionError(
      `tableName must be 1 to 40 letters, digits or underscores, not starting with a digit; got ${JSON.stringify(tableName)}`,
    );
  }
  if (schemaName !== undefined && (typeof schemaName !== 'string' || !SCHEMA_NAME.test(schemaName))) {
    throw new InvalidOptionError(
      `schemaName must be 1 to 63 letters, digits or underscores, not starting with a digit; got ${JSON.stringify(schemaName)}`,
    );
  }
  const schema = schemaName === undefined ? undefined : quote(schemaName);
  const qualified = (name: string) => (schema ? `${schema}.${quote(name)}` : quote(name));
  return {
    sessions: qualified(tableName),
    values: qualified(`${tableName}_values`),
    expiryIndex: quote(`${tableName}_expires_at`),
    userIndex: quote(`${tableName}_user_id`),
    schema,
    fn: (suffix) => qualified(`${tableName}_${suffix}`),
  };
}

/** Always quoted: a table may be named like a keyword (`user`), or in capitals. Names are checked above. */
function quote(identifier: string): string {
  return `"${identifier}"`;
}
