/**
 * What the 'postgres' provider's user index costs (issue 13):
 * - bytes: `pg_total_relation_size` of the sessions table (heap, TOAST, every index) and of the values table,
 *   after N unbound sessions (stored, then touched), and after N sessions bound to N/4 users (4 devices each,
 *   a 16-character label; stored, then bound), each in a fresh schema;
 * - the GC: rows per second removed from `sessions` expired unbound sessions (its statement now reports events);
 * - the login path: C concurrent clients each doing init → rename (regenerate) → [bindUser] → commit of one key,
 *   unbound against bound, interleaved; and read-modify-write on unbound sessions (the path that must not change).
 * With BASELINE=<another build's dist/src/providers/postgres/provider.js> (before issue 13, say) it measures the
 * unbound figures of that build too, in the same run: the rates in alternating slices (the order flipped each
 * round), so a machine whose load drifts favours neither. `sessions` 0 skips the bytes.
 *
 *   npm run build && [BASELINE=…] node dist/bench/postgres-users.js [postgres://…] [sessions] [seconds] [rounds]
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
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

type Factory = typeof createPostgresProvider;
type Bindable = ReturnType<Factory> & {
  bindUser?: (sid: string, userId: string, label?: string) => Promise<unknown>;
};

async function withProvider<T>(
  create: Factory,
  pool: pg.Pool,
  schemaName: string,
  run: (p: Bindable) => Promise<T>,
) {
  const provider = create({ pool, schemaName, gcIntervalMs: 0, operationTimeoutMs: 60_000 }) as Bindable;
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
async function footprint(
  create: Factory,
  pool: pg.Pool,
  bound: boolean,
): Promise<{ perSession: number; userIndexPerSession?: number }> {
  const schema = `users_bytes_${tag}`;
  try {
    return await withProvider(create, pool, schema, async (provider) => {
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
      const perSession = ((await bytes(pool, schema)) - empty) / sessions;
      if (!bound) return { perSession };
      const { rows } = await pool.query(`SELECT pg_relation_size('"${schema}".shard_sessions_user_id') AS n`);
      return { perSession, userIndexPerSession: Number(rows[0].n) / sessions };
    });
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

/** Rows per second the GC removes when `sessions` unbound sessions have expired (the GC's statement changed). */
async function sweepRate(create: Factory, pool: pg.Pool): Promise<number> {
  const schemaName = `users_sweep_${tag}`;
  let clock = Date.now();
  const provider = create({
    pool,
    schemaName,
    gcIntervalMs: 0,
    operationTimeoutMs: 60_000,
    now: () => clock,
  });
  try {
    for (let at = 0; at < sessions; at += 500) {
      const batch = Array.from({ length: Math.min(500, sessions - at) }, () => generateSid());
      await Promise.all(batch.map((sid) => provider.init(sid, policy, { set: [['n', encodeValue(1)]] })));
    }
    clock += policy.idleTimeoutMs;
    const started = performance.now();
    const removed = await provider.gc();
    return Math.round(removed / ((performance.now() - started) / 1000));
  } finally {
    await provider.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schemaName}" CASCADE`);
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

/** The steps measured on one provider: a login (maybe binding), and a read-modify-write of one's own session. */
async function steps(provider: Bindable) {
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
  return { login, rmw };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const baselinePath = process.env.BASELINE;
  const builds: { name: string; create: Factory }[] = [{ name: 'current', create: createPostgresProvider }];
  if (baselinePath) {
    const module = (await import(pathToFileURL(baselinePath).href)) as { createPostgresProvider: Factory };
    builds.unshift({ name: 'baseline', create: module.createPostgresProvider });
  }
  const report: Record<string, unknown> = { sessions, clients: CLIENTS, seconds, rounds };
  try {
    if (sessions > 0) {
      for (const build of builds)
        report[`${build.name} bytes/session unbound`] = await footprint(build.create, pool, false);
      report['current bytes/session bound'] = await footprint(createPostgresProvider, pool, true);
      for (const build of builds)
        report[`${build.name} GC rows/s, unbound`] = await sweepRate(build.create, pool);
    }
    const rates: Record<string, number[]> = {};
    const record = (name: string, value: number) => {
      rates[name] ??= [];
      rates[name]?.push(value);
    };
    const live = await Promise.all(
      builds.map(async (build) => {
        const provider = build.create({
          pool,
          schemaName: `users_rate_${build.name}_${tag}`,
          gcIntervalMs: 0,
          operationTimeoutMs: 60_000,
        }) as Bindable;
        return { build, provider, ...(await steps(provider)) };
      }),
    );
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? live : [...live].reverse();
      for (const { build, rmw } of order) record(`${build.name} rmw unbound`, await rate(rmw));
      for (const { build, login } of order) record(`${build.name} login unbound`, await rate(login(false)));
      record('current login bound', await rate((live.at(-1) as (typeof live)[number]).login(true)));
    }
    for (const { provider, build } of live) {
      await provider.close();
      await pool.query(`DROP SCHEMA IF EXISTS "users_rate_${build.name}_${tag}" CASCADE`);
    }
    report.perSecond = Object.fromEntries(
      Object.entries(rates).map(([k, v]) => [k, { median: median(v), runs: v }]),
    );
    report.load = loadavg().map((n) => n.toFixed(1));
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await pool.end();
  }
}

await main();
