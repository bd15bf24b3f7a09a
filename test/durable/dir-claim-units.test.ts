import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { claimDir, type DirClaim, OWNER_FILE } from '../../src/providers/sharded/durable/dir-claim.js';
import { tempDir } from '../support/temp-dir.js';

// The claim a durable provider takes on its directory (one process per dir), run on real directories with
// real processes: the provider tests meet it only through createShardedProvider, in failures.test.ts.

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function newDir(): string {
  const dir = tempDir('shard-session-claim-');
  cleanups.push(dir.remove);
  return dir.path;
}

function claim(dir: string): DirClaim {
  const claimed = claimDir(dir);
  cleanups.push(() => claimed.release());
  return claimed;
}

function refusal(dir: string): StorageError {
  try {
    claim(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error(`${dir} was claimed`);
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3] as string;
}

/** Another live process (a `sleep`), ended after the test. */
async function otherProcess(): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  return child as ChildProcess & { pid: number };
}

const ownerOf = (dir: string) => readFileSync(join(dir, OWNER_FILE), 'utf8');

describe('claiming a session directory', () => {
  it('creates the directory, writes this process’s pid and start time, and release removes it', () => {
    const dir = join(newDir(), 'a', 'b');
    const claimed = claim(dir);
    expect(claimed.dir).toBe(dir);
    expect(ownerOf(dir)).toBe(`${process.pid} ${startTimeOf(process.pid)}\n`);
    claimed.release();
    expect(existsSync(join(dir, OWNER_FILE))).toBe(false);
    claimed.release(); // twice: nothing more happens
    claim(dir).release();
  });

  it('refuses a second claim in this process until the first is released (a relative path is the same dir)', () => {
    const dir = newDir();
    const first = claim(dir);
    const error = refusal(join(dir, '.'));
    expect(error.code).toBe('ERR_STORAGE_LOCKED');
    expect(error.message).toBe(
      `the session directory ${dir} is already open in this process: close that provider first`,
    );
    first.release();
    expect(claim(dir).dir).toBe(dir);
  });

  it('refuses a directory a live process owns, naming it', async () => {
    const dir = newDir();
    const other = await otherProcess();
    writeFileSync(join(dir, OWNER_FILE), `${other.pid} ${startTimeOf(other.pid)}\n`);
    const error = refusal(dir);
    expect(error.code).toBe('ERR_STORAGE_LOCKED');
    expect(error.message).toBe(
      `the session directory ${dir} is in use by process ${other.pid}: one process per dir (for several processes use the 'redis' or 'postgres' provider)`,
    );
    // Without a start time (written where /proc was missing), a live pid still owns it.
    writeFileSync(join(dir, OWNER_FILE), `${other.pid}\n`);
    expect(refusal(dir).code).toBe('ERR_STORAGE_LOCKED');
    expect(ownerOf(dir)).toBe(`${other.pid}\n`);
  });

  it('takes over from a process that is gone, from a reused pid, from its own earlier life, and from garbage', async () => {
    const dir = newDir();
    const mine = `${process.pid} ${startTimeOf(process.pid)}\n`;
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    const other = await otherProcess();
    for (const stale of [
      `${gone.pid} 12345\n`, // dead
      `${other.pid} 1\n`, // alive, but a process that started later under the same pid
      `${process.pid} 1\n`, // this pid in the file, not claimed here: a restarted container's earlier life
      'not a pid\n',
      '0 5\n',
      '',
    ]) {
      writeFileSync(join(dir, OWNER_FILE), stale);
      const claimed = claim(dir);
      expect(ownerOf(dir), stale).toBe(mine);
      claimed.release();
    }
  });

  it('on release, leaves an owner file that is no longer this process’s', () => {
    const dir = newDir();
    const claimed = claim(dir);
    writeFileSync(join(dir, OWNER_FILE), '1 1\n');
    claimed.release();
    expect(ownerOf(dir)).toBe('1 1\n');
  });

  it('refuses a path that is a file, or under one', () => {
    const parent = newDir();
    const file = join(parent, 'file');
    writeFileSync(file, 'x');
    expect(refusal(file).message).toMatch(new RegExp(`^cannot create the session directory ${file}: EEXIST`));
    const error = refusal(join(file, 'below'));
    expect(error.code).toBe('ERR_STORAGE');
    expect(error.message).toMatch(
      new RegExp(`^cannot create the session directory ${join(file, 'below')}: `),
    );
  });
});

describe('checking the data file before LMDB opens it', () => {
  it('accepts a real LMDB file, an empty one, and none', async () => {
    const dir = newDir();
    claim(dir).release();
    writeFileSync(join(dir, 'data.mdb'), '');
    claim(dir).release();
    const env = open({ path: dir });
    await env.put('k', 'v');
    await env.close();
    claim(dir).release();
  });

  it('refuses a file that is not LMDB, or whose meta pages are damaged, naming it', async () => {
    const dir = newDir();
    const file = join(dir, 'data.mdb');
    const message = `the session store ${file} is corrupt or not an LMDB file: move it away (the sessions in it are lost) or restore it from a backup`;
    writeFileSync(file, Buffer.alloc(64 * 1024, 0x5a));
    expect(refusal(dir).message).toBe(message);
    writeFileSync(file, 'short');
    expect(refusal(dir).message).toBe(message);

    const real = newDir();
    const env = open({ path: real });
    await env.put('k', 'v');
    await env.close();
    const good = readFileSync(join(real, 'data.mdb'));
    const page = 4096;
    expect(good.readUInt32LE(24)).toBe(0xbeefc0de);
    // The second meta page damaged, then the first, then the file cut inside the second page.
    const second = Buffer.from(good);
    second.writeUInt32LE(0, page + 24);
    writeFileSync(file, second);
    expect(refusal(dir).message).toBe(message);
    const first = Buffer.from(good);
    first.writeUInt32LE(0, 24);
    writeFileSync(file, first);
    expect(refusal(dir).message).toBe(message);
    writeFileSync(file, good.subarray(0, page + 100));
    expect(refusal(dir).message).toBe(message);
    writeFileSync(file, good.subarray(0, 2 * page + 1));
    expect(refusal(dir).message).toBe(message);
    writeFileSync(file, good);
    claim(dir).release();
  });

  it('refuses a data file it cannot read', () => {
    const dir = newDir();
    mkdirSync(join(dir, 'data.mdb'));
    writeFileSync(join(dir, 'data.mdb', 'x'), 'x');
    const error = refusal(dir);
    expect(error.code).toBe('ERR_STORAGE');
    expect(error.message).toMatch(new RegExp(`^cannot read the session store ${join(dir, 'data.mdb')}: `));
  });
});
