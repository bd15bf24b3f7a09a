import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Issue 11, the other half: unref'ing idle shards must not let a process exit while an operation is in
// flight. Each script awaits shard operations at top level with nothing else keeping the loop alive: if the
// router's port were unref'd while a frame is out, Node would exit early with code 13 (unsettled await).
const index = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));

function run(script: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

describe("a never-closed 'sharded' provider", () => {
  it('completes awaited operations, then lets the process exit by itself', async () => {
    const { code, output } = await run(`
      import { createShardedProvider, generateSid } from ${JSON.stringify(index)};
      const provider = createShardedProvider({ shards: 2 });
      const policy = { idleTimeoutMs: 60000, absoluteTimeoutMs: 60000 };
      const sids = Array.from({ length: 50 }, () => generateSid());
      await Promise.all(sids.map((sid) => provider.init(sid, policy)));
      // Idle for a while (every port unref'd), then in flight again: the await must still hold the process.
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log('count', await provider.count());
      await new Promise((resolve) => setImmediate(resolve));
      console.log('read', (await provider.read(sids[0])) !== null);`);
    expect(output.trim()).toBe('count 50\nread true');
    expect(code).toBe(0);
  });

  it('still settles an operation whose shard is restarted after a crash, then exits', async () => {
    const { code, output } = await run(`
      import { createShardedProvider, generateSid } from ${JSON.stringify(index)};
      const provider = createShardedProvider({ shards: 1 });
      const policy = { idleTimeoutMs: 60000, absoluteTimeoutMs: 60000 };
      await provider.init(generateSid(), policy);
      await provider.terminateShard(0);
      console.log('after restart', await provider.count());`);
    expect(output.trim()).toBe('after restart 0');
    expect(code).toBe(0);
  });
});
