import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { StorageError } from '../../../errors.js';
import { dataFile } from './lmdb-options.js';

/** The file that says which process serves a `dir`. */
export const OWNER_FILE = 'owner.pid';

/** Directories this process serves, so a second provider on one is refused as a second process would be. */
const claimed = new Set<string>();

/** A directory this process serves; `release` (at close) lets the next one in. */
export interface DirClaim {
  readonly dir: string;
  release(): void;
}

/**
 * Makes `dir` ready for a durable provider, or throws a StorageError saying why not: creates it, checks it
 * can be written, checks that an existing LMDB file is one (lmdb-js trusts its file: a foreign or damaged
 * header crashes the process rather than failing), and claims it for this process.
 *
 * One process per `dir`: every shard keeps its sessions in memory and writes them through, so a second
 * process on the same files would serve its own stale copies and lose the other's updates. The claim is a
 * pid file checked for liveness, so a process killed with -9 does not leave the directory locked: its pid is
 * dead (or, after a reboot or in a new container, belongs to a process that started later).
 */
export function claimDir(dirOption: string): DirClaim {
  const dir = resolve(dirOption);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    // A file (or a link to one) at `dir` fails here too (EEXIST): what gets past this is a directory.
    throw new StorageError(`cannot create the session directory ${dir}: ${reason(error)}`);
  }
  if (claimed.has(dir)) {
    throw new StorageError(
      `the session directory ${dir} is already open in this process: close that provider first`,
      'ERR_STORAGE_LOCKED',
    );
  }
  checkDataFile(dir);
  const ownerFile = join(dir, OWNER_FILE);
  takeOwnerFile(dir, ownerFile);
  claimed.add(dir);
  return {
    dir,
    release() {
      if (!claimed.delete(dir)) return;
      try {
        if (readOwner(ownerFile)?.pid === process.pid) unlinkSync(ownerFile);
      } catch {}
    },
  };
}

function takeOwnerFile(dir: string, ownerFile: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(ownerFile, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StorageError(`cannot write in the session directory ${dir}: ${reason(error)}`);
      }
      const owner = readOwner(ownerFile);
      if (owner && isAlive(owner)) {
        throw new StorageError(
          `the session directory ${dir} is in use by process ${owner.pid}: one process per dir ` +
            `(for several processes use the 'redis' or 'postgres' provider)`,
          'ERR_STORAGE_LOCKED',
        );
      }
      try {
        unlinkSync(ownerFile); // left by a process that is gone
      } catch {}
      continue;
    }
    try {
      writeSync(fd, `${process.pid} ${startTime(process.pid) ?? ''}\n`);
    } catch (error) {
      throw new StorageError(`cannot write in the session directory ${dir}: ${reason(error)}`);
    } finally {
      closeSync(fd);
    }
    return;
  }
  throw new StorageError(`could not claim the session directory ${dir}`, 'ERR_STORAGE_LOCKED');
}

interface Owner {
  readonly pid: number;
  readonly started: string | undefined;
}

function readOwner(ownerFile: string): Owner | undefined {
  try {
    const [pid, started] = readFileSync(ownerFile, 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 ? { pid: n, started: started || undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote the owner file still runs (the same process: same pid and start time). */
function isAlive(owner: Owner): boolean {
  // This process's own pid in the file, yet not claimed here: a previous life of a restarted container.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startTime(owner.pid);
  return owner.started === undefined || started === undefined || started === owner.started;
}

/** When a process started, in clock ticks since boot (Linux); undefined where /proc is not there. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

// LMDB's meta pages (the first two pages) start with the magic 0xBEEFC0DE after the page header.
const MDB_MAGIC = 0xbeefc0de;
const META_MAGIC_AT = 24;
const PAGE_SIZES = [4096, 8192, 16384, 32768, 65536];

/** Refuses a data file that is not LMDB's (wrong magic in either meta page, or too short). */
function checkDataFile(dir: string): void {
  const file = dataFile(dir);
  if (!existsSync(file)) return;
  const size = statSync(file).size;
  if (size === 0) return;
  const head = Buffer.alloc(Math.min(size, 2 * 65536));
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    readSync(fd, head, 0, head.length, 0);
  } catch (error) {
    throw new StorageError(`cannot read the session store ${file}: ${reason(error)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const magicAt = (at: number) => at + 8 <= head.length && head.readUInt32LE(at) === MDB_MAGIC;
  const valid =
    magicAt(META_MAGIC_AT) &&
    PAGE_SIZES.some((page) => size >= 2 * page && size % page === 0 && magicAt(page + META_MAGIC_AT));
  if (!valid) {
    throw new StorageError(
      `the session store ${file} is corrupt or not an LMDB file: move it away (the sessions in it are lost) ` +
        `or restore it from a backup`,
    );
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
