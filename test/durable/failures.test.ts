import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec.js';
import { StorageError } from '../../src/errors.js';
import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { durableTeardown } from '../support/sharded.js';
import { tempDir } from '../support/temp-dir.js';

// Every way the durable store can fail gives a typed StorageError with a clear message: at construction
// where it can be known then, otherwise on the operations concerned. Never a crash, a hang or memory instead.
const entry = pathToFileURL(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))).href;
const POLICY = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000 };

const { providers, dirs } = durableTeardown();

function newDir(): string {
  const dir = tempDir('shard-durable-fail-');
  dirs.push(dir);
  return dir.path;
}

function constructionError(options: Parameters<typeof createShardedProvider>[0]): StorageError {
  try {
    providers.push(createShardedProvider(options));
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error('the provider was built');
}

async function rejection(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

describe("'sharded' with dir: failures", () => {
  it('a dir that cannot be created: StorageError at construction', () => {
    const parent = newDir();
    writeFileSync(join(parent, 'file'), 'not a directory');
    const error = constructionError({ dir: join(parent, 'file', 'sessions'), shards: 1 });
    expect(error.code).toBe('ERR_STORAGE');
    expect(error.message).toMatch(/cannot create the session directory .*file\/sessions/);
  });

  it('a dir that cannot be written: StorageError at construction', () => {
    const parent = newDir();
    const dir = join(parent, 'readonly');
    mkdirSync(dir);
    chmodSync(parent, 0o755);
    chmodSync(dir, 0o555);
    // Root writes anywhere: the provider is built in a child process running as nobody.
    const script = `
      const { createShardedProvider } = await import(${JSON.stringify(entry)});
      try { createShardedProvider({ dir: ${JSON.stringify(dir)}, shards: 1 }); console.log('built'); process.exit(0); }
      catch (e) { console.log(e.constructor.name, e.code, e.message); }`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      ...asNobody,
    });
    expect(child.error, 'the child could not start (can nobody run this node binary?)').toBeUndefined();
    expect(child.stdout).toMatch(
      /^StorageError ERR_STORAGE cannot write in the session directory .*readonly: EACCES/,
    );
  });

  it('a file that is not LMDB (or whose header is damaged): StorageError at construction, naming the file', () => {
    const dir = newDir();
    writeFileSync(join(dir, 'data.mdb'), Buffer.alloc(64 * 1024, 0x5a));
    const error = constructionError({ dir, shards: 1 });
    expect(error.code).toBe('ERR_STORAGE');
    expect(error.message).toMatch(/data\.mdb is corrupt or not an LMDB file/);
  });

  it('a stored record the shard cannot read: every operation rejects StorageError, stats still answer, no restart loop', async () => {
    const dir = newDir();
    const env = open({ path: dir, noSubdir: false, maxDbs: 4 });
    const db = env.openDB<Buffer, string>({ name: 'sessions', encoding: 'binary' });
    await db.put(generateSid(), Buffer.from([99, 1, 2, 3]));
    await env.close();
    const provider = createShardedProvider({ dir, shards: 1 });
    providers.push(provider);
    const error = await rejection(provider.read(generateSid()));
    expect(error.message).toMatch(
      /could not load the stored sessions: a stored session has an unknown layout/,
    );
    await rejection(provider.init(generateSid(), POLICY));
    const [stats] = await provider.stats();
    expect(stats?.threadId).toBeGreaterThan(0);
    // The same thread still answers: it was not restarted.
    await rejection(provider.count());
    expect((await provider.stats())[0]?.threadId).toBe(stats?.threadId);
  });

  it('a full store (mapSize): growing operations reject ERR_STORAGE_FULL; reads, touches and destroy go on; freed room is used again', async () => {
    const dir = newDir();
    const provider = createShardedProvider({ dir, shards: 1, mapSize: 256 * 1024 });
    providers.push(provider);
    const value = encodeValue('x'.repeat(1000));
    const stored: string[] = [];
    let full: StorageError | undefined;
    for (let i = 0; i < 2000 && !full; i++) {
      const sid = generateSid();
      try {
        await provider.init(sid, POLICY, { set: [['v', value]] });
        stored.push(sid);
      } catch (error) {
        full = error as StorageError;
      }
    }
    expect(full).toBeInstanceOf(StorageError);
    expect(full?.code).toBe('ERR_STORAGE_FULL');
    expect(full?.message).toMatch(/full \(mapSize reached\)/);
    expect(stored.length).toBeGreaterThan(100);
    const someone = stored[0] as string;
    expect((await rejection(provider.incr(someone, 'n', 1))).code).toBe('ERR_STORAGE_FULL');
    expect((await rejection(provider.commit(someone, { set: [['w', value]] }))).code).toBe(
      'ERR_STORAGE_FULL',
    );
    // What is stored stays readable and can be touched and destroyed.
    expect([...((await provider.read(someone))?.values.get('v') ?? [])]).toEqual([...value]);
    expect(await provider.commit(someone, {})).not.toBeNull();
    // (Most of them: LMDB merges a page only once it is under a quarter full, so destroying every other
    // session would free few pages.)
    for (const sid of stored.splice(5)) expect(await provider.destroy(sid)).toBe(true);
    // The freed room is used again once the shard looks at its usage (every 50 ms).
    const deadline = Date.now() + 5_000;
    let again: unknown;
    do {
      again = await provider.init(generateSid(), POLICY, { set: [['v', value]] }).catch((e: unknown) => e);
      if (!(again instanceof StorageError)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    } while (Date.now() < deadline);
    expect(again).not.toBeInstanceOf(Error);
    for (const sid of stored) expect(await provider.read(sid)).not.toBeNull();
  });

  // A real full disk: a 512 KiB tmpfs (needs root and mount; skipped where the test cannot mount one).
  const tiny = mkdtempSync(join(tmpdir(), 'shard-durable-tinyfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', tiny]).status === 0;
  afterAll(() => {
    if (mounted) spawnSync('umount', [tiny]);
    rmSync(tiny, { recursive: true, force: true });
  });

  it.skipIf(!mounted)(
    'a full disk (ENOSPC): the failed write rejects ERR_STORAGE_FULL and is undone in memory; reads and updates in place go on; a restart finds exactly what was acknowledged',
    async () => {
      const dir = join(tiny, 'sessions');
      const provider = createShardedProvider({ dir, shards: 1 });
      providers.push(provider);
      const value = encodeValue('x'.repeat(1000));
      const stored: string[] = [];
      let full: StorageError | undefined;
      let refused = '';
      for (let i = 0; i < 2000 && !full; i++) {
        const sid = generateSid();
        try {
          await provider.init(sid, POLICY, { set: [['v', value]] });
          stored.push(sid);
        } catch (error) {
          full = error as StorageError;
          refused = sid;
        }
      }
      expect(full).toBeInstanceOf(StorageError);
      // ENOSPC as a rule; on a full tmpfs LMDB sometimes gets EIO for the page it writes instead.
      expect(full?.message).toMatch(
        /could not write the session store: (No space left on device|Input\/output error)/,
      );
      expect(full?.code).toBe(/No space/.test(full?.message ?? '') ? 'ERR_STORAGE_FULL' : 'ERR_STORAGE');
      // The refused session is not served from memory: the shard put back what the file has (nothing).
      expect(await provider.read(refused)).toBeNull();
      expect(await provider.count()).toBe(stored.length);
      expect(await provider.read(stored[0] as string)).not.toBeNull();
      expect(await provider.incr(stored[1] as string, 'n', 1)).toBe(1);
      await provider.close();
      providers.splice(providers.indexOf(provider), 1);

      const again = createShardedProvider({ dir, shards: 1 });
      providers.push(again);
      expect(await again.count()).toBe(stored.length);
      expect(await again.read(refused)).toBeNull();
      expect(decodeValue((await again.read(stored[1] as string))?.values.get('n') as Uint8Array)).toBe(1);
    },
  );
});
