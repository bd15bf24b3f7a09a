/**
 * The standalone bench probes (the bench/*.ts scripts beside the suite's run.ts) run to their end at a tiny
 * size and print what their headers promise: not their figures, only that each still runs as documented.
 * bench/durable.ts once stopped at its first close() with exit code 13 and nobody saw it until it was run by
 * hand (the bug was the library's: a durable close let the process end early). The probes that need a
 * PostgreSQL or Redis of their own (postgres-*.ts, redis-user-index.ts), thread-cpu.ts (which drives a bench
 * server for seconds) and engine.ts (a minute even with --quick, and it rewrites bench/results/engine.json) are
 * left to their users. Runs the compiled probes (dist/), which `npm test` builds first.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Runs `node [flags] dist/bench/<probe>.js args`; resolves its exit code and output. */
function runProbe(probe: string, args: string[], flags: string[] = []) {
  const file = fileURLToPath(new URL(`../dist/bench/${probe}.js`, import.meta.url));
  const run = spawnSync(process.execPath, [...flags, file, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const lines = (text: string) => text.split('\n').filter(Boolean);
const NUMBER = String.raw`\d[\d,.]*`;

describe('the bench probes run to their end', () => {
  it('durable: a restart of 2,000 stored sessions, then incr without dir, with dir, with fsync', () => {
    const { code, stdout, stderr } = runProbe('durable', ['--sessions=2000', '--seconds=0.2']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const [restart, ...incr] = lines(stdout);
    expect(restart).toMatch(
      new RegExp(
        `^restart: 2,000 sessions, 1 shard\\(s\\): .*\\(a stored session, found\\), all loaded ${NUMBER} s ` +
          `\\(count 2,000\\), process CPU ${NUMBER} s, shard heap ${NUMBER} MB$`,
      ),
    );
    expect(incr.map((line) => line.replace(/:.*/, ''))).toEqual([
      'incr, 64 callers, 1 shard(s), memory (no dir)',
      'incr, 64 callers, 1 shard(s), dir',
      'incr, 64 callers, 1 shard(s), dir + fsync',
    ]);
  });

  it('session-layer: /read and /incr in process for map, the memory provider and one shard', () => {
    const { code, stdout, stderr } = runProbe('session-layer', ['200']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rows = lines(stdout);
    expect(rows).toHaveLength(2);
    for (const [row, route] of [
      [rows[0], '/read'],
      [rows[1], '/incr'],
    ]) {
      expect(row).toMatch(
        new RegExp(
          `^${route}, 200 sessions: map ${NUMBER} µs .*shard-memory .* map, shard-sharded-1 .* map$`,
        ),
      );
    }
  });

  it('read-cache: three rounds of the memory provider and one shard with and without its read cache', () => {
    const { code, stdout, stderr } = runProbe('read-cache', ['200']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rows = lines(stdout).map((line) => line.replace(/\s+wall.*/, ''));
    expect(rows).toEqual(Array(3).fill(['memory', 'sharded-1, cache', 'sharded-1, no cache']).flat());
    for (const line of lines(stdout)) expect(line).toMatch(/wall [\d.]+ µs\/read\s+CPU [\d.]+ µs\/read$/);
  });

  it('sessions-in-memory: the table and a sharded process filled with every session, none evicted', () => {
    const table = runProbe('sessions-in-memory', ['table', '2000'], ['--expose-gc']);
    expect({ code: table.code, stderr: table.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(table.stdout)).toMatchObject({
      sessions: 2000,
      heapBytesPerSession: expect.any(Number),
    });
    // The sharded fill reports its progress on stderr.
    const sharded = runProbe('sessions-in-memory', ['sharded', '2000'], ['--expose-gc']);
    expect(sharded.code, sharded.stderr).toBe(0);
    expect(JSON.parse(sharded.stdout)).toMatchObject({
      sessions: 2000,
      evicted: 0,
      rssMiB: expect.any(Number),
    });
  });

  it('user-index-memory: bytes per bound session', () => {
    const { code, stdout, stderr } = runProbe('user-index-memory', ['200'], ['--expose-gc']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({ sessions: 200, bindingBytesPerSession: expect.any(Number) });
  });

  // It reads each thread's CPU time from Linux's /proc.
  it.skipIf(process.platform !== 'linux')('thread-hop: a round trip over each of the three channels', () => {
    const { code, stdout, stderr } = runProbe('thread-hop', ['1000', '0.5']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rows = lines(stdout).slice(2);
    expect(rows.map((row) => row.trim().split(/\s+/)[0])).toEqual([
      'message-port',
      'doorbell',
      'shared-memory',
    ]);
    for (const row of rows) expect(row).toMatch(/^\s+\S+\s+-?[\d.]+\s+-?[\d.]+\s+-?[\d.]+$/);
  });
});
