import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeValue } from '../../src/codec.js';
import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { tempDir } from '../support/temp-dir.js';

// Real processes on one dir: a crash (kill -9) under load, and the one-process-per-dir rule.
// The children load the build (npm test builds first).
const server = fileURLToPath(new URL('../fixtures/durable/incr-server.mjs', import.meta.url));
const closeScript = fileURLToPath(new URL('../fixtures/durable/close-script.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url)));

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) dir.remove();
});

/** Starts the server on `dir`; resolves its first line of output (`listening <port>` or `error <code> …`). */
async function startServer(
  dir: string,
  shards = 1,
): Promise<{ child: ChildProcessWithoutNullStreams; line: string }> {
  const child = spawn(process.execPath, [server, dir, String(shards)], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('\n')) resolve(output.split('\n')[0] as string);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output} ${errors}`)));
  });
  return { child, line };
}

async function get(port: number, sid?: string): Promise<{ sid: string; n: number }> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { headers: sid ? { 'x-session-id': sid } : {} });
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  const [id, n] = (await response.text()).split(' ');
  return { sid: id as string, n: Number(n) };
}

async function kill9(child: ChildProcessWithoutNullStreams): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(!built)("'sharded' with dir across processes", () => {
  it('kill -9 under incr load: after restart the counter is >= the acknowledged count and <= acknowledged + in flight', async () => {
    const dir = tempDir('shard-durable-kill-');
    dirs.push(dir);
    const { child, line } = await startServer(dir.path, 2);
    const port = Number(line.split(' ')[1]);
    const { sid } = await get(port);
    let acknowledged = 1; // the first request's increment
    let inFlight = 0;
    let maxInFlight = 0;
    const CONCURRENCY = 16;
    let killed = false;
    // Keep CONCURRENCY requests out until the kill; count each 200 as acknowledged.
    await new Promise<void>((resolve) => {
      const loop = async () => {
        while (!killed) {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            await get(port, sid);
            if (!killed) acknowledged++;
          } catch {
            // the connection died with the server
          } finally {
            inFlight--;
          }
          if (acknowledged >= 1500 && !killed) {
            killed = true;
            child.kill('SIGKILL');
            resolve();
          }
        }
      };
      for (let i = 0; i < CONCURRENCY; i++) void loop();
    });
    const acknowledgedAtKill = acknowledged;
    await once(child, 'exit').catch(() => {});
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    expect(child.signalCode).toBe('SIGKILL');

    // The dead process's claim on the dir is stale: a new provider takes it.
    const provider = createShardedProvider({ dir: dir.path, shards: 3 });
    try {
      const snapshot = await provider.read(sid);
      const final = decodeValue(snapshot?.values.get('n') as Uint8Array) as number;
      expect(final).toBeGreaterThanOrEqual(acknowledgedAtKill);
      expect(final).toBeLessThanOrEqual(acknowledgedAtKill + CONCURRENCY);
    } finally {
      await provider.close();
    }
  });

  it('a second process on the same dir is refused at start (ERR_STORAGE_LOCKED); once the first is killed -9, a new one serves its sessions', async () => {
    const dir = tempDir('shard-durable-two-');
    dirs.push(dir);
    const first = await startServer(dir.path);
    const port = Number(first.line.split(' ')[1]);
    const { sid } = await get(port);
    await get(port, sid);

    const second = await startServer(dir.path).catch((error: Error) => ({
      child: undefined,
      line: error.message,
    }));
    expect(second.line).toMatch(/^error ERR_STORAGE_LOCKED .*in use by process \d+/);

    await kill9(first.child);
    const third = await startServer(dir.path);
    expect(third.line).toMatch(/^listening \d+$/);
    expect(await get(Number(third.line.split(' ')[1]), sid)).toEqual({ sid, n: 3 });
  });

  // A durable shard closes its store and exits by itself once close() lets go of it. Its thread is unref'd
  // while idle: unless it holds the process until it has exited, a script whose last step is
  // `await provider.close()` ends first (an unsettled top-level await: exit code 13, nothing after close runs).
  it("a script's `await provider.close()` returns before the process ends, and the next open reads what it wrote", async () => {
    const dir = tempDir('shard-durable-script-');
    dirs.push(dir);
    const child = spawn(process.execPath, [closeScript, dir.path], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      errors += chunk;
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect({ code, output, errors }).toEqual({
      code: 0,
      output: 'closed\nread 42\nclosed again\n',
      errors: '',
    });
  });
});
