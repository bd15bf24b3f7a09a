import type { Database, RootDatabase } from 'lmdb';
import { StorageError } from '../../../errors.js';
import type { SessionRecord } from '../../session-record.js';
import type { SessionTable } from '../../session-table.js';
import { shardOf } from '../shard-hash.js';
import { type DurableSetup, environmentOptions, SESSIONS_DB } from './lmdb-options.js';
import { decodeStoredRecord, encodeStoredRecord, storedExpiresAt } from './record-codec.js';

/** How often a shard looks at how much of `mapSize` the sessions use: the look costs ~25 µs. */
const USAGE_CHECK_MS = 50;

/**
 * A shard's side of the durable store: the sessions it owns, written through to LMDB. The table tells it of
 * every change (`track`); at the end of a frame (or a GC slice) `commit` writes them all in one synchronous
 * write transaction, and only then does the shard answer. One environment per `dir`, keyed by session id,
 * shared by every shard: each shard loads the ids that hash to it, so a change of shard count needs no
 * migration.
 */
export class ShardStore {
  readonly #env: RootDatabase;
  readonly #db: Database<Buffer, string>;
  readonly #mapSize: number;
  /** What changed since the last commit: the record to store, or undefined to delete. */
  readonly #pending = new Map<string, SessionRecord | undefined>();
  #nextUsageCheck = 0;
  #full = false;
  /** The load under way: where the table goes, which ids are this shard's, and the last key read. */
  #load: { table: SessionTable; shard: number; shards: number; after: string | undefined } | undefined;

  private constructor(env: RootDatabase, mapSize: number) {
    this.#env = env;
    this.#db = env.openDB<Buffer, string>({ name: SESSIONS_DB, encoding: 'binary' });
    this.#mapSize = mapSize;
  }

  /** Opens the store (lmdb is imported here, so a shard without `dir` never loads it). */
  static async open(setup: DurableSetup): Promise<ShardStore> {
    try {
      const { open } = await import('lmdb');
      return new ShardStore(open(environmentOptions(setup)), setup.mapSize);
    } catch (error) {
      throw storageError(`could not open the session store in ${setup.dir}`, error);
    }
  }

  /** The table's change listener. */
  readonly track = (sid: string, record: SessionRecord | undefined): void => {
    this.#pending.set(sid, record);
  };

  get hasPending(): boolean {
    return this.#pending.size > 0;
  }

  /** Whether stored sessions are still being loaded into the table (see `loadSlice`). */
  get loading(): boolean {
    return this.#load !== undefined;
  }

  /**
   * Starts loading the stored sessions of shard `shard` of `shards` into `table`. The shard serves at once:
   * until the load is done, an operation on an id the table does not hold yet reads it through from the file
   * (`readThrough`), so no request is told its session is unknown because loading had not finished, and the
   * rest comes in by slices between frames (`loadSlice`). One million sessions take seconds to decode; the
   * first answer takes a few ms.
   */
  startLoad(table: SessionTable, shard: number, shards: number): void {
    this.#load = { table, shard, shards, after: undefined };
  }

  /**
   * Loads for at most `budgetMs`, then returns whether the load is done. Each slice reads the file as it is
   * now, after the table had the chance to change: a record the table already holds is newer than the file's
   * (every write goes through the table) and is skipped; one deleted meanwhile is no longer in the file.
   * Records dead at `now` are deleted from the file instead.
   */
  loadSlice(now: number, budgetMs = Number.POSITIVE_INFINITY): boolean {
    const load = this.#load;
    if (!load) return true;
    const { table, shard, shards } = load;
    const started = performance.now();
    let seen = 0;
    let done = true;
    try {
      const range = this.#db.getRange(load.after === undefined ? {} : { start: load.after });
      for (const { key, value } of range) {
        if (key === load.after) continue;
        if (++seen % 256 === 0 && performance.now() - started >= budgetMs) {
          done = false;
          break;
        }
        load.after = key;
        if ((shards > 1 && shardOf(key, shards) !== shard) || table.holds(key)) continue;
        if (storedExpiresAt(value) <= now) this.#pending.set(key, undefined);
        else table.restore(key, decodeStoredRecord(value));
      }
    } catch (error) {
      this.#load = undefined;
      throw storageError('could not load the stored sessions', error);
    }
    if (done) this.#load = undefined;
    // The dead records found, and sessions evicted to fit maxSessions (a smaller limit or fewer shards).
    this.commit();
    return done;
  }

  /**
   * While loading: puts the session under `sid` into the table from the file if the table does not hold it
   * yet, so the operation about to run sees it. (A dead one comes in too, and the table expires it.)
   */
  readThrough(sid: string): void {
    const load = this.#load;
    if (!load || load.table.holds(sid)) return;
    let stored: Buffer | undefined;
    try {
      stored = this.#db.getBinary(sid);
      if (stored) load.table.restore(sid, decodeStoredRecord(stored));
    } catch (error) {
      throw storageError(`could not read the stored session`, error);
    }
  }

  /**
   * True when the sessions use `mapSize` or more: then operations that add data are refused, and those that
   * remove it (destroy, expiry) still run. lmdb-js grows LMDB's map by itself, so the limit is kept here.
   */
  isFull(): boolean {
    if (this.#mapSize === 0) return false;
    const at = performance.now();
    if (at < this.#nextUsageCheck) return this.#full;
    this.#nextUsageCheck = at + USAGE_CHECK_MS;
    const stats = this.#db.getStats() as {
      pageSize: number;
      treeBranchPageCount: number;
      treeLeafPageCount: number;
      overflowPages: number;
    };
    const used = stats.pageSize * (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages);
    this.#full = used >= this.#mapSize;
    return this.#full;
  }

  /**
   * Writes every pending change in one transaction; returns once it has committed. On failure nothing of it
   * is stored, the pending changes are dropped and the error is a StorageError: the caller puts the table
   * back as storage has it (`revert`).
   */
  commit(): void {
    if (this.#pending.size === 0) return;
    const pending = [...this.#pending];
    this.#pending.clear();
    try {
      this.#db.transactionSync(() => {
        for (const [sid, record] of pending) {
          if (record) this.#db.putSync(sid, encodeStoredRecord(record) as Buffer);
          else this.#db.removeSync(sid);
        }
      });
    } catch (error) {
      throw storageError('could not write the session store', error, pending);
    }
  }

  /** Puts the sessions of a failed commit back in the table as storage has them. */
  revert(table: SessionTable, sids: Iterable<string>): void {
    for (const sid of sids) {
      const stored = this.#db.getBinary(sid);
      table.restore(sid, stored ? decodeStoredRecord(stored) : undefined);
    }
  }

  close(): Promise<void> {
    return this.#env.close();
  }
}

/** A StorageError saying what failed and why (ENOSPC, MDB_MAP_FULL, …); it keeps the sessions concerned. */
export class FailedCommit extends StorageError {
  readonly sids: readonly string[];
  constructor(message: string, sids: readonly string[]) {
    super(message, /ENOSPC|MAP_FULL|No space/i.test(message) ? 'ERR_STORAGE_FULL' : 'ERR_STORAGE');
    this.sids = sids;
  }
}

function storageError(
  what: string,
  error: unknown,
  pending?: readonly (readonly [string, unknown])[],
): StorageError {
  const reason = error instanceof Error ? error.message : String(error);
  if (pending)
    return new FailedCommit(
      `${what}: ${reason}`,
      pending.map(([sid]) => sid),
    );
  return new StorageError(`${what}: ${reason}`);
}
