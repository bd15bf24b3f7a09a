import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// The bench CLI (dist/: `npm run build` first) rewrites partial.json and partial.md after each run, so a run
// stopped for time (a full one takes hours) leaves the figures of the runs it did; the finished report
// replaces them.

const ARGS = [
  'dist/bench/run.js',
  '--quick',
  '--scenarios=read-mostly',
  '--servers=map,plain',
  '--repeat=1',
  '--duration=0.2',
  '--warmup=0.1',
  '--paced=0',
];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function outDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-partial-'));
  dirs.push(dir);
  return dir;
}

/** The report file's runs, or undefined while it does not exist yet. */
function runsIn(file: string): { runs: unknown[]; plannedRuns?: number } | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Runs the CLI until it exits: its exit code and what it wrote to stderr. */
async function runToTheEnd(out: string): Promise<{ code: unknown; stderr: string }> {
  const child = spawn(process.execPath, [...ARGS, `--out=${out}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  return { code, stderr };
}

describe('the bench CLI, stopped or finished', () => {
  it('leaves partial.json and partial.md of the runs done when it is stopped after the first of two', async () => {
    const out = outDir();
    // Its own process group, so the kill takes the server child it forked too, as a Ctrl-C would.
    const child = spawn(process.execPath, [...ARGS, `--out=${out}`], { stdio: 'ignore', detached: true });
    let running = true;
    const exited = new Promise((resolve) => child.on('exit', resolve)).then(() => {
      running = false;
    });
    const partial = join(out, 'partial.json');
    // partial.md is written first, then partial.json: once the JSON is there, so is the Markdown.
    while (running && runsIn(partial) === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    const report = runsIn(partial);
    expect(report?.runs).toHaveLength(1);
    expect(report?.plannedRuns).toBe(2);
    expect(readFileSync(join(out, 'partial.md'), 'utf8')).toContain(
      '**Partial report**: 1 of 2 planned runs',
    );
    expect(existsSync(join(out, 'latest.json'))).toBe(false);
  });

  it('replaces them with latest.json and latest.md when every run is done', async () => {
    const out = outDir();
    const { code, stderr } = await runToTheEnd(out);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(runsIn(join(out, 'latest.json'))?.runs).toHaveLength(2);
    expect(runsIn(join(out, 'latest.json'))?.plannedRuns).toBeUndefined();
    expect(readFileSync(join(out, 'latest.md'), 'utf8')).not.toContain('Partial report');
    expect(existsSync(join(out, 'partial.json'))).toBe(false);
    expect(existsSync(join(out, 'partial.md'))).toBe(false);
  });

  it('goes on when a partial report cannot be written, and still writes the finished one', async () => {
    const out = outDir();
    mkdirSync(join(out, 'partial.md.tmp')); // where partial.md is written first: a directory, so it fails
    const { code, stderr } = await runToTheEnd(out);
    expect(stderr).toContain('could not write the partial report');
    expect(code).toBe(0);
    expect(runsIn(join(out, 'latest.json'))?.runs).toHaveLength(2);
  });
});
