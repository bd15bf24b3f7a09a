/**
 * What the 'postgres' provider's batching buys: read-modify-write requests (a read, then a commit of one key,
 * on the client's own session) from C concurrent clients, for a few seconds, three ways:
 * - `batched`: the provider as shipped: a turn's operations in one statement, one statement out at a time;
 * - `one-per-statement`: the same provider with `maxOpsPerStatement: 1` (same order, no sharing);
 * - `pooled`: no provider queue at all, each operation its own statement on a pool of 4 connections, as
 *   connect-pg-simple does (concurrent, unordered between clients).
 *
 *   npm run build && node dist/bench/postgres-batching.js [postgres://…] [seconds]
 */
import pg from 'pg';
import { encodeValue, generateSid } from '../src/index.js';
import { createPostgresProvider } from '../src/providers/postgres/provider.js';
import { schemaNames } from '../src/providers/postgres/schema-names.js';

const url = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/test';
const seconds = Number(process.argv[3] ?? 4);
const schemaName = `batching_${process.pid}`;
const policy = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };

type Step = (sid: string, i: number) => Promise<unknown>;

async function measure(clients: number, step: Step, sids: string[]) {
  let requests = 0;
  const stopAt = performance.now() + seconds * 1000;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < stopAt; i++) {
        await step(sids[c] as string, i);
        requests++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    rps: Math.round(requests / seconds),
    nodeCpuMicrosPerRequest: Math.round((used.user + used.system) / requests),
  };
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const names = schemaNames('shard_sessions', schemaName);
  const results: Record<string, unknown>[] = [];
  try {
    for (const clients of [1, 16, 64]) {
      const sids = Array.from({ length: clients }, () => generateSid());
      for (const mode of ['batched', 'one-per-statement', 'pooled'] as const) {
        const provider = createPostgresProvider({
          pool,
          schemaName,
          gcIntervalMs: 0,
          ...(mode === 'one-per-statement' ? { maxOpsPerStatement: 1 } : {}),
        });
        await Promise.all(sids.map((sid) => provider.destroy(sid)));
        await Promise.all(sids.map((sid) => provider.init(sid, policy)));
        const step: Step =
          mode === 'pooled'
            ? async (sid, i) => {
                await pool.query(`SELECT * FROM ${names.fn('read_v1')}($1, $2)`, [sid, Date.now()]);
                await pool.query(
                  `SELECT * FROM ${names.fn('commit_v1')}($1, $2, $3, $4, '{}', 1000, 1048576)`,
                  [sid, Date.now(), ['last'], [Buffer.from(encodeValue(i))]],
                );
              }
            : async (sid, i) => {
                await provider.read(sid);
                await provider.commit(sid, { set: [['last', encodeValue(i)]] });
              };
        const figures = await measure(clients, step, sids);
        const [stats] = await provider.stats();
        results.push({
          clients,
          mode,
          ...figures,
          opsPerStatement:
            mode === 'pooled' ? 1 : Math.round(((stats?.ops ?? 0) / (stats?.batches ?? 1)) * 10) / 10,
        });
        await provider.close();
      }
    }
    console.table(results);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schemaName}" CASCADE`);
    await pool.end();
  }
}

await main();
