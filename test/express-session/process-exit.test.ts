import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A store nobody closes must not keep the process alive, as MemoryStore does not: test runners and scripts
// that never call close() must still end. Each case stores and reads a session in a child process that then
// has nothing left to do, and must exit by itself.
const entry = fileURLToPath(new URL('../../dist/src/express-session.js', import.meta.url));
const EXIT_DEADLINE_MS = 3000;

function runUnclosed(storeOptions: object): Promise<{ exited: boolean; output: string }> {
  const script = `
    import { ShardSessionStore } from ${JSON.stringify(entry)};
    const store = new ShardSessionStore(${JSON.stringify(storeOptions)});
    const cookie = { expires: new Date(Date.now() + 60000) };
    store.set('a', { n: 1, cookie }, (error) => {
      if (error) throw error;
      store.get('a', (error, session) => console.log(error ? 'failed' : \`stored \${session.n}\`));
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  return new Promise((resolve) => {
    let deadline: NodeJS.Timeout | undefined;
    child.stdout.on('data', () => {
      // Counted from the moment the work is done, so a slow start (threads, imports) is not a false failure.
      deadline ??= setTimeout(() => {
        child.kill('SIGKILL');
        resolve({ exited: false, output });
      }, EXIT_DEADLINE_MS);
    });
    child.once('exit', (code) => {
      clearTimeout(deadline);
      resolve({ exited: code === 0, output });
    });
  });
}

describe('a ShardSessionStore that is never closed', () => {
  it("lets the process exit ('memory' provider, the pruner's timer unref'd)", async () => {
    const { exited, output } = await runUnclosed({ provider: 'memory' });
    expect(output.trim()).toBe('stored 1');
    expect(exited).toBe(true);
  });

  // Issue 11: idle shard threads and the router's ports are unref'd; only a frame in flight holds the process.
  it("lets the process exit ('sharded' provider: idle shards are unref'd)", async () => {
    const { exited, output } = await runUnclosed({ provider: 'sharded', providerOptions: { shards: 1 } });
    expect(output.trim()).toBe('stored 1');
    expect(exited).toBe(true);
  });
});
