import { join } from 'node:path';

/** What a shard thread needs to open the durable store: plain data, sent with the shard's setup. */
export interface DurableSetup {
  readonly dir: string;
  /** Acknowledge only once the commit is on the disk (fsync), not only in the OS's page cache. */
  readonly fsync: boolean;
  /** Most bytes the sessions may use in the file; 0 for no limit but the disk. */
  readonly mapSize: number;
}

/** LMDB's file in `dir` (`lock.mdb` sits beside it). */
export function dataFile(dir: string): string {
  return join(dir, 'data.mdb');
}

/**
 * How every thread opens the environment (lmdb-js shares one environment per path within a process, so the
 * flags must agree). Without fsync: MDB_NOSYNC. A commit is then written to the file (pwrite, the OS page
 * cache) before the transaction returns but not flushed, which survives the death of the process (kill -9)
 * and not the machine's (power loss, kernel panic). With fsync, each commit waits for the flush; lmdb-js's
 * overlappingSync is off in both cases so that "committed" means what the option says when the call returns.
 */
export function environmentOptions(setup: DurableSetup) {
  return {
    path: setup.dir,
    noSubdir: false,
    noSync: !setup.fsync,
    overlappingSync: false,
    maxDbs: 4,
  };
}

/** The named database of the sessions (a record's first byte says its layout: see record-codec.ts). */
export const SESSIONS_DB = 'sessions';
