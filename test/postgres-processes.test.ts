import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeValue } from '../src/codec.js';
import { createSessionManager } from '../src/manager.js';
import { generateSid } from '../src/sid.js';
import { lineReader } from './support/child-lines.js';
import { DATABASE_URL, dropSchema, freshSchemaName, testPool } from './support/postgres.js';

// Two managers in two processes over one table: what several app servers behind a load balancer do.
// The children load the build (npm test builds first).
const entry = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));
const pool = testPool(2);
const schemaName = freshSchemaName('processes');

afterAll(async () => {
  await dropSchema(pool, schemaName);
  await pool.end();
});

/**
 * A process with its own manager. It says 'ready' once its provider has answered, then on 'go' commits its
 * own key and runs `count` increments of `n`, 50 issued at once per round, and prints the increments' answers.
 */
function worker(sid: string, key: string, count: number): ChildProcessWithoutNullStreams {
  const script = `
    const { createSessionManager, encodeValue } = await import(${JSON.stringify(pathToFileURL(entry).href)});
    const manager = createSessionManager({
      provider: 'postgres',
      providerOptions: { connectionString: ${JSON.stringify(DATABASE_URL)}, schemaName: ${JSON.stringify(schemaName)} },
    });
    const sid = ${JSON.stringify(sid)};
    await manager.provider.read(sid);
    process.stdout.write('ready\\n');
    process.stdin.once('data', async () => {
      const committed = manager.provider.commit(sid, { set: [[${JSON.stringify(key)}, encodeValue(process.pid)]] });
      const answers = [];
      for (let round = 0; round < ${count / 50}; round++) {
        answers.push(...(await Promise.all(Array.from({ length: 50 }, () => manager.provider.incr(sid, 'n', 1)))));
      }
      process.stdout.write(JSON.stringify({ answers, committed: (await committed) !== null }) + '\\n');
      await manager.close();
    });`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
}

describe.skipIf(!existsSync(entry))("'postgres' across processes", () => {
  it('two managers in two processes: 1,000 concurrent increments (50 at a time from each) end at 1,000, each answer given once, no key lost', async () => {
    const manager = createSessionManager({
      provider: 'postgres',
      providerOptions: { connectionString: DATABASE_URL, schemaName },
    });
    const sid = generateSid();
    await manager.provider.init(sid, { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 });
    const children = [worker(sid, 'first', 500), worker(sid, 'second', 500)];
    const exited = children.map((child) => once(child, 'exit'));
    try {
      const readers = children.map(lineReader);
      expect(await Promise.all(readers.map((reader) => reader.until(1)))).toEqual([['ready'], ['ready']]);
      const done = readers.map((reader) => reader.until(2));
      for (const child of children) child.stdin.end('go\n');
      const reports = (await Promise.all(done)).map(
        (got) => JSON.parse(got[1] as string) as { answers: number[]; committed: boolean },
      );
      const answers = reports.flatMap((report) => report.answers).sort((a, b) => a - b);
      expect(answers).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      // The processes really interleaved: neither one's answers are a single unbroken run.
      for (const report of reports) {
        const sorted = [...report.answers].sort((a, b) => a - b);
        expect((sorted.at(-1) as number) - (sorted[0] as number)).toBeGreaterThan(sorted.length - 1);
      }
      expect(reports.map((report) => report.committed)).toEqual([true, true]);
      const values = (await manager.provider.read(sid))?.values;
      expect(decodeValue(values?.get('n') as Uint8Array)).toBe(1000);
      // Per-key merge across processes: each process's own key is there.
      expect([...(values?.keys() ?? [])].sort()).toEqual(['first', 'n', 'second']);
      expect((await Promise.all(exited)).map(([code]) => code)).toEqual([0, 0]);
    } finally {
      for (const child of children) child.kill();
      await manager.close();
    }
  }, 60_000);
});
