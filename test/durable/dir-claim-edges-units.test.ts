import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { claimDir, OWNER_FILE } from '../../src/providers/sharded/durable/dir-claim.js';
import { tempDir } from '../support/temp-dir.js';

// Edges of the dir claim that dir-claim-units.test.ts leaves out (found by mutation testing): this process's
// own pid without a start time, an owner file that cannot be replaced, the smallest LMDB file, a file too
// short for a meta page, and the file descriptors a refused claim leaves open (none).

const made: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) dir.remove();
});
const newDir = (): string =>
  (made[made.push(tempDir('shard-session-claim-edges-')) - 1] as { path: string }).path;

function refusal(dir: string): StorageError {
  try {
    claimDir(dir).release();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error(`${dir} was claimed`);
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('claiming a session directory: edges', () => {
  it('takes over its own pid written without a start time (an earlier life of this container)', () => {
    const dir = newDir();
    writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
    const claimed = claimDir(dir);
    expect(readFileSync(join(dir, OWNER_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    claimed.release();
  });

  it('gives up, saying so, when the owner file cannot be replaced', () => {
    const dir = newDir();
    mkdirSync(join(dir, OWNER_FILE)); // not a file: neither readable as an owner nor removable by unlink
    const error = refusal(dir);
    expect(error.code).toBe('ERR_STORAGE_LOCKED');
    expect(error.message).toBe(`could not claim the session directory ${dir}`);
  });

  it('accepts the smallest LMDB file (its two meta pages), refuses one too short for a meta page', async () => {
    const real = newDir();
    const env = open({ path: real });
    await env.put('k', 'v');
    await env.close();
    const good = readFileSync(join(real, 'data.mdb'));
    const dir = newDir();
    writeFileSync(join(dir, 'data.mdb'), good.subarray(0, 2 * 4096));
    claimDir(dir).release();
    writeFileSync(join(dir, 'data.mdb'), good.subarray(0, 20));
    expect(refusal(dir).message).toMatch(/is corrupt or not an LMDB file/);
  });

  it('leaves no file descriptor open when it cannot read the data file', () => {
    const dir = newDir();
    mkdirSync(join(dir, 'data.mdb'));
    writeFileSync(join(dir, 'data.mdb', 'x'), 'x');
    refusal(dir); // warm up: the first call may open what the runtime keeps open anyway
    const before = openFds();
    for (let i = 0; i < 5; i++) expect(refusal(dir).message).toMatch(/^cannot read the session store/);
    expect(openFds()).toBe(before);
    const fine = newDir();
    for (let i = 0; i < 5; i++) claimDir(fine).release(); // the owner file's descriptor is closed too
    expect(openFds()).toBe(before);
  });
});
