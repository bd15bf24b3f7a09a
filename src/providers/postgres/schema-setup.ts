import type { Connections } from './connections.js';
import type { SchemaNames } from './schema-names.js';
import { schemaSql } from './schema-sql.js';

/**
 * Puts the schema in place on first use: creates it (`createSchema: true`) or checks that a migration did.
 * Either way it ends with an empty call of the batch function, which also checks the database's encoding
 * and isolation level, so a misconfigured database fails the first operation with a clear message rather
 * than a later one with a confusing one. A failure (the database is down) is not remembered: the next
 * batch tries again.
 */
export class SchemaSetup {
  readonly #connections: Connections;
  readonly #names: SchemaNames;
  readonly #create: boolean;
  #done = false;
  #pending: Promise<void> | undefined;

  constructor(connections: Connections, names: SchemaNames, create: boolean) {
    this.#connections = connections;
    this.#names = names;
    this.#create = create;
  }

  ready(timeoutMs: number): Promise<void> {
    if (this.#done) return Promise.resolve();
    this.#pending ??= this.#prepare(timeoutMs).then(
      () => {
        this.#done = true;
      },
      (error: unknown) => {
        this.#pending = undefined;
        throw error;
      },
    );
    return this.#pending;
  }

  async #prepare(timeoutMs: number): Promise<void> {
    const names = this.#names;
    const check = `SELECT * FROM ${names.fn('apply_v2')}(0, ${Array(12).fill("'{}'").join(', ')}, 1, 1, 1, 1);`;
    // One simple-protocol query: its statements run as one transaction, which the advisory lock serializes
    // against other processes creating the same tables (CREATE … IF NOT EXISTS races otherwise).
    const text = this.#create
      ? `SELECT pg_advisory_xact_lock(hashtext(${literal(`shard-session ${names.sessions}`)}));\n${schemaSql(names)}\n${check}`
      : check;
    await this.#connections.query(
      { text },
      this.#create ? 'creating the schema' : 'checking the schema',
      timeoutMs,
    );
  }
}

/** A string as an SQL literal (the names in it are checked identifiers; quotes are doubled anyway). */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
