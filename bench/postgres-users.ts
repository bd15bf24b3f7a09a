/**
 * What the 'postgres' provider's user index costs (issue 13):
 * - bytes: `pg_total_relation_size` of the sessions table (heap, TOAST, every index) and of the values table,
 *   after N unbound sessions (stored, then touched), and after N sessions bound to N/4 users (4 devices each,
 *   a 16-character label; stored, then bound), each in a fresh schema;
 * - the login path: C concurrent clients each doing init → rename (regenerate) → [bindUser] → commit of one key,
 *   unbound against bound, interleaved; and read-modify-write on unbound sessions (the path that must not change).
 * With a build whose provider has no `bindUser` (before issue 13) it measures the unbound figures only.
 *
 *   npm run build && node dist/bench/postgres-users.js [postgres://…] [sessions] [seconds] [rounds]
 */
import pg from 'pg';
import { encodeValue, generateSid } from '../src/index.js';
import { createPostgresProvider } from '../src/providers/postgres/provider.js';

const url = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/test';
const sessions = Number(process.argv[3] ?? 20_000);
const seconds = Number(process.argv[4] ?? 3);
const rounds = Number(process.argv[5] ?? 3);
const CLIENTS = 64;
const policy = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };
const tag = `${process.pid}`;

type Provider = ReturnType<typeof createPostgresProvider>;
type Bindable = Provider & { bindUser?: (sid: string, userId: string, label?: string) => Promise<unknown> };

async function withProvider<T>(pool: pg.Pool, schemaName: string, run: (p: Bindable) => Promise<T>) {
  const provider = createPostgresProvider({
    pool,
    schemaName,
    gcIntervalMs: 0,
    operationTimeoutMs: 60_000,
  }) as Bindable;
  try {
    return await run(provider);
  } finally {
    await provider.close();
  }
}

/** Bytes of both tables with their indexes, after a VACUUM (so dead versions of the setup do not count). */
async function bytes(pool: pg.Pool, schema: string): Promise<number> {
  await pool.query(`VACUUM "${schema}".shard_sessions, "${schema}".shard_sessions_values`);
  const { rows } = await pool.query(
    `SELECT pg_total_relation_size('"${schema}".shard_sessions') + pg_total_relation_size('"${schema}".shard_sessions_values') AS n`,
  );
  return Number(rows[0].n);
}

/** Stores `sessions` sessions (one small key each, as after a login), bound to users or not; bytes per session. */
async function footprint(pool: pg.Pool, bound: boolean): Promise<number> {
  const schema = `users_bytes_${bound ? 'bound' : 'unbound'}_${tag}`;
  try {
    return await withProvider(pool, schema, async (provider) => {
      await provider.init(generateSid(), policy); // creates the schema
      const empty = await bytes(pool, schema);
      for (let at = 0; at < sessions; at += 500) {
        await Promise.all(
          Array.from({ length: Math.min(500, sessions - at) }, async (_, i) => {
            const sid = generateSid();
            await provider.init(sid, policy, { set: [['user', encodeValue(`user-${(at + i) >> 2}`)]] });
            // Both write the row a second time (a binding is an UPDATE), so both leave the same dead version.
            if (bound) await provider.bindUser?.(sid, `user-${(at + i) >> 2}`, 'Firefox on Linux');
            else await provider.commit(sid, {});
          }),
        );
      }
      return ((await bytes(pool, schema)) - empty) / sessions;
    });
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

/** Requests per second of `step` from CLIENTS concurrent clients for `seconds`. */
async function rate(step: (client: number, i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const stopAt = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; performance.now() < stopAt; i++) {
        await step(c, i);
        done++;
      }
    }),
  );
  return Math.round(done / seconds);
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  const schema = `users_rate_${tag}`;
  try {
    const unboundBytes = await footprint(pool, false);
    const canBind = await withProvider(pool, schema, async (p) => typeof p.bindUser === 'function');
    const boundBytes = canBind ? await footprint(pool, true) : undefined;
    const rates: Record<string, number[]> = { 'login unbound': [], 'login bound': [], 'rmw unbound': [] };
    await withProvider(pool, schema, async (provider) => {
      const mine = Array.from({ length: CLIENTS }, () => generateSid());
      await Promise.all(mine.map((sid) => provider.init(sid, policy)));
      const login = (bind: boolean) => async (c: number) => {
        const sid = generateSid();
        const renamed = generateSid();
        await provider.init(sid, policy);
        await provider.rename(sid, renamed);
        if (bind) await provider.bindUser?.(renamed, `user-${c}`);
        await provider.commit(renamed, { set: [['user', encodeValue(c)]] });
      };
      const rmw = async (c: number, i: number) => {
        await provider.read(mine[c] as string);
        await provider.commit(mine[c] as string, { set: [['n', encodeValue(i)]] });
      };
      for (let round = 0; round < rounds; round++) {
        rates['login unbound']?.push(await rate(login(false)));
        if (canBind) rates['login bound']?.push(await rate(login(true)));
        rates['rmw unbound']?.push(await rate(rmw));
      }
    });
    console.log(
      JSON.stringify(
        {
          sessions,
          clients: CLIENTS,
          seconds,
          load: (await import('node:os')).loadavg().map((n) => n.toFixed(1)),
          bytesPerSession: { unbound: unboundBytes, bound: boundBytes },
          perSecond: rates,
        },
        null,
        2,
      ),
    );
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}

await main();
