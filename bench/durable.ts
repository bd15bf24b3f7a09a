import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeValue } from '../src/codec.js';
import { createShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

/**
 * The durable shards' own figures: how long a restart takes to serve N stored sessions, and what `fsync`
 * costs an acknowledgement.
 *
 *   npm run build && node dist/bench/durable.js [--sessions=1000000] [--shards=1] [--depth=64] [--seconds=3]
 *
 * Restart: N sessions (two small keys, as the population scenario) are written, the provider closed, and a
 * new one started on the dir; "first answer" is when a read of a stored session has been answered (a shard
 * serves while it loads, reading through from the file), "all loaded" when `count` answered (it waits for
 * every shard's load), with the process CPU spent until then. Then `incr` at `--depth` callers is
 * measured without and with `fsync: true`, each on a fresh dir.
 */
const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const SESSIONS = arg('sessions', 1_000_000);
const SHARDS = arg('shards', 1);
const DEPTH = arg('depth', 64);
const SECONDS = arg('seconds', 3);
const POLICY = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };

async function restart(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shard-durable-bench-'));
  try {
    const fill = createShardedProvider({ dir, shards: SHARDS });
    const user = encodeValue('user-1234');
    const sids: string[] = [];
    let started = performance.now();
    for (let i = 0; i < SESSIONS; i += 2000) {
      const batch = Array.from({ length: Math.min(2000, SESSIONS - i) }, () => generateSid());
      sids.push(batch[0] as string);
      await Promise.all(
        batch.map((sid) =>
          fill.init(sid, POLICY, {
            set: [
              ['user', user],
              ['n', encodeValue(1)],
            ],
          }),
        ),
      );
    }
    const fillMs = performance.now() - started;
    await fill.close();
    const fileMb = statSync(join(dir, 'data.mdb')).size / 1e6;
    started = performance.now();
    // The process's CPU while it loads (the main thread is idle, awaiting): what the load costs whatever else
    // runs on this machine; the wall times below are what a client waits.
    const cpuBefore = process.cpuUsage();
    const again = createShardedProvider({ dir, shards: SHARDS });
    const first = await again.read(sids[sids.length - 1] as string);
    const readyMs = performance.now() - started;
    // count waits for every shard's load to finish (operations before that read through from the file).
    const count = await again.count();
    const loadedMs = performance.now() - started;
    const loadCpu = process.cpuUsage(cpuBefore);
    const heap = (await again.stats()).reduce((n, s) => n + s.heapUsedBytes, 0);
    await again.close();
    console.log(
      `restart: ${SESSIONS.toLocaleString('en')} sessions, ${SHARDS} shard(s): filled in ${(fillMs / 1000).toFixed(1)} s, ` +
        `file ${fileMb.toFixed(0)} MB; first answer ${(readyMs / 1000).toFixed(2)} s after start ` +
        `(a stored session, ${first ? 'found' : 'MISSING'}), all loaded ${(loadedMs / 1000).toFixed(2)} s ` +
        `(count ${count.toLocaleString('en')}), process CPU ${((loadCpu.user + loadCpu.system) / 1e6).toFixed(1)} s, ` +
        `shard heap ${(heap / 1e6).toFixed(0)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function incrRate(
  fsync: boolean | undefined,
): Promise<{ opsPerSec: number; p50: number; p99: number; cpuUsPerOp: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'shard-durable-bench-'));
  const provider = createShardedProvider({
    shards: SHARDS,
    ...(fsync === undefined ? {} : { dir, fsync }),
  });
  try {
    const sids = Array.from({ length: DEPTH }, () => generateSid());
    await Promise.all(sids.map((sid) => provider.init(sid, POLICY)));
    const latencies: number[] = [];
    const drive = async (until: number, record: boolean) => {
      let ops = 0;
      await Promise.all(
        sids.map(async (sid) => {
          while (performance.now() < until) {
            const at = performance.now();
            await provider.incr(sid, 'n', 1);
            if (record) latencies.push(performance.now() - at);
            ops++;
          }
        }),
      );
      return ops;
    };
    await drive(performance.now() + 300, false);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const ops = await drive(started + SECONDS * 1000, true);
    const elapsed = performance.now() - started;
    // The whole process (main thread and shard threads): what an operation costs whatever else runs here.
    const cpu = process.cpuUsage(cpuBefore);
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.floor(q * (latencies.length - 1))] as number;
    return {
      opsPerSec: (ops * 1000) / elapsed,
      p50: at(0.5),
      p99: at(0.99),
      cpuUsPerOp: (cpu.user + cpu.system) / ops,
    };
  } finally {
    await provider.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (SESSIONS > 0) await restart();
for (const [name, fsync] of [
  ['memory (no dir)', undefined],
  ['dir', false],
  ['dir + fsync', true],
] as const) {
  const { opsPerSec, p50, p99, cpuUsPerOp } = await incrRate(fsync);
  console.log(
    `incr, ${DEPTH} callers, ${SHARDS} shard(s), ${name}: ${Math.round(opsPerSec).toLocaleString('en')} ops/s, ` +
      `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, process CPU ${cpuUsPerOp.toFixed(1)} µs/op`,
  );
}
