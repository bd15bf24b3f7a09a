/**
 * What the 'redis' provider's user index (issue 13) costs: Redis memory per bound session (INFO used_memory
 * around binding N sessions, N/4 users of four devices, and MEMORY USAGE of the keys), and the login path's
 * rate with and without the binding (visit: init; login: rename + commit, plus bindUser when bound), in one
 * run, alternating. The unbound figures can be compared with an older build: `--provider=<its
 * dist/src/providers/redis/provider.js>` (a build without users measures the unbound path only).
 * It also reports Redis's own µs per commit call of unbound sessions (INFO commandstats).
 * Run: `npm run build && REDIS_URL=redis://127.0.0.1:6399 node dist/bench/redis-user-index.js [N]`
 * against a redis-server of its own (the script flushes nothing, but writes N sessions under a fresh prefix).
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { SessionProvider } from '../src/providers/provider.js';
import { GROUP_TAGS, KeyLayout } from '../src/providers/redis/key-layout.js';
import { generateSid } from '../src/sid.js';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 20_000);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const override = process.argv.find((a) => a.startsWith('--provider='))?.slice('--provider='.length);
const module = (await import(
  override ? pathToFileURL(override).href : '../src/providers/redis/provider.js'
)) as typeof import('../src/providers/redis/provider.js');
const Redis = createRequire(import.meta.url)('ioredis').Redis;
const admin = new Redis(url);
const POLICY = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };
const USER = new Uint8Array([0xa3, 0x61, 0x6e, 0x6e]); // msgpack 'ann'
const CONCURRENCY = 64;

const usedMemory = async (): Promise<number> =>
  Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);

/** Runs `task` for `count` items, CONCURRENCY at a time; resolves items per second. */
async function rate(count: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

const prefix = `bench${Date.now()}:`;
const layout = new KeyLayout(prefix);
const provider: SessionProvider = module.createRedisProvider({ url, prefix, gcIntervalMs: 0 });
const withUsers = typeof provider.bindUser === 'function';
const result: Record<string, unknown> = { sessions: N, loadAverage1m: loadavg()[0]?.toFixed(1) };

// Memory: N unbound sessions with one small key, then the same N bound.
const sids = Array.from({ length: N }, () => generateSid());
const before = await usedMemory();
await rate(N, (i) => provider.init(sids[i] as string, POLICY, { set: [['user', USER]] }));
const unbound = await usedMemory();
result.unboundBytesPerSession = Math.round((unbound - before) / N);
result.unboundHashBytes = await admin.memory('USAGE', layout.sessionKey(sids[0] as string));
if (withUsers) {
  await rate(
    N,
    (i) => provider.bindUser?.(sids[i] as string, `user-${Math.floor(i / 4)}`) as Promise<unknown>,
  );
  const bound = await usedMemory();
  result.bindingBytesPerSession = Math.round((bound - unbound) / N);
  result.boundHashBytes = await admin.memory('USAGE', layout.sessionKey(sids[0] as string));
  // user-0's four sessions: their entries in the user index keys of their slot groups.
  const userKeys = GROUP_TAGS.map((tag) => `${prefix}{${tag}}:user:user-0`);
  const sizes = await Promise.all(userKeys.map((key) => admin.memory('USAGE', key)));
  result.userIndexBytesOfUser0 = sizes.reduce((sum: number, n) => sum + Number(n ?? 0), 0);
}

// The login path, alternating unbound and bound rounds.
const LOGINS = Math.max(2000, Math.floor(N / 4));
const rounds: Record<string, number[]> = { unbound: [], bound: [] };
for (let round = 0; round < 3; round++) {
  for (const kind of withUsers ? ['unbound', 'bound'] : ['unbound']) {
    const visits = Array.from({ length: LOGINS }, () => generateSid());
    await rate(LOGINS, (i) => provider.init(visits[i] as string, POLICY));
    const perSecond = await rate(LOGINS, async (i) => {
      const sid = generateSid();
      await provider.rename(visits[i] as string, sid);
      if (kind === 'bound') await provider.bindUser?.(sid, `login-${i}`);
      await provider.commit(sid, { set: [['user', USER]] });
    });
    rounds[kind]?.push(Math.round(perSecond));
  }
}
result.loginsPerSecond = rounds;
// Redis's work per commit of an unbound session: its own µs per call (noisy on a loaded machine) and the
// commands the function ran (deterministic: compare with an older build).
const plain = Array.from({ length: N / 2 }, () => generateSid());
await rate(plain.length, (i) => provider.init(plain[i] as string, POLICY, { set: [['user', USER]] }));
await admin.config('RESETSTAT');
await rate(plain.length, (i) => provider.commit(plain[i] as string, { set: [['n', USER]] }));
const stats = await admin.info('commandstats');
const calls = [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/gm)];
const fcall = calls.find(([, name]) => name === 'fcall');
result.unboundCommitRedisUsPerCall = Number(fcall?.[3]);
const inner = calls.filter(([, name]) => name !== 'fcall').reduce((sum, [, , n]) => sum + Number(n), 0);
result.unboundCommitRedisCommandsPerCall = inner / plain.length;
console.log(JSON.stringify(result));
await provider.close();
admin.disconnect();
