/**
 * Bytes per live session of the session table, and whether N sessions fit in one 'sharded' process: the check
 * behind issue 8's "10,000,000 sessions of two small keys in one 'sharded' process within 4 GB of RSS".
 *
 *   npm run build && node --expose-gc dist/bench/sessions-in-memory.js table [N]     (default 1,000,000)
 *   npm run build && node --expose-gc dist/bench/sessions-in-memory.js sharded [N]   (default 10,000,000)
 *
 * `table` fills a SessionTable in this thread and prints its heap growth per session after a full GC (the ids
 * are made first and not counted: they are the caller's strings in a real table too, so add ~64 B for them).
 * `sharded` fills a 1-shard 'sharded' provider as the bench's population prefill does (two small keys,
 * 20,000 in flight) and prints the process RSS, its growth per session and the shard's heap. What the shard
 * needs for 10 M: `maxSessions` above the default 4,000,000 per shard, and a heap and byte budget to match
 * (`resourceLimits.maxOldGenerationSizeMb`, `maxShardBytes`), set below.
 */
import { encodeValue } from '../src/codec.js';
import { resolveLimits } from '../src/providers/provider-options.js';
import { SessionTable } from '../src/providers/session-table.js';
import { createShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const mode = process.argv[2] ?? 'table';
const N = Number(process.argv[3] ?? (mode === 'sharded' ? 10_000_000 : 1_000_000));
const POLICY = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };
const initial = () => ({ set: [['user', encodeValue('u')] as const, ['count', encodeValue(0)] as const] });
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

function memory() {
  (gc as () => void)();
  (gc as () => void)();
  return process.memoryUsage();
}

if (mode === 'table') {
  const table = new SessionTable(resolveLimits({ maxSessions: N, maxShardBytes: 2 ** 40 }));
  const sids = Array.from({ length: N }, () => generateSid());
  const before = memory();
  const started = performance.now();
  const now = Date.now();
  for (const sid of sids) table.init(sid, POLICY, initial() as never, now);
  const seconds = (performance.now() - started) / 1000;
  const after = memory();
  console.log(
    JSON.stringify({
      sessions: N,
      heapBytesPerSession: Math.round((after.heapUsed - before.heapUsed) / N),
      countedBytesPerSession: Math.round(table.bytes / N),
      fillSeconds: Number(seconds.toFixed(1)),
    }),
  );
} else {
  // 10 M sessions count ~2.6 GB against maxShardBytes and take ~2.5 GB of heap: a 6 GB heap leaves the GC room.
  const provider = createShardedProvider({
    shards: 1,
    gcIntervalMs: 0,
    maxSessions: N,
    maxShardBytes: 4 * 2 ** 30,
    resourceLimits: { maxOldGenerationSizeMb: 6144 },
  });
  await provider.count(); // the thread is up: its baseline is in `before`
  const before = memory();
  const started = performance.now();
  const inFlight = 20_000;
  for (let done = 0; done < N; done += inFlight) {
    const batch = Math.min(inFlight, N - done);
    await Promise.all(
      Array.from({ length: batch }, () => provider.init(generateSid(), POLICY, initial() as never)),
    );
    if (done % 1_000_000 === 0)
      console.error(`${done.toLocaleString('en-US')} sessions, RSS ${mib(process.memoryUsage().rss)} MiB`);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = memory();
  const [stats] = await provider.stats();
  console.log(
    JSON.stringify({
      sessions: await provider.count(),
      rssMiB: mib(after.rss),
      rssBytesPerSession: Math.round((after.rss - before.rss) / N),
      shardHeapMiB: mib(stats?.heapUsedBytes ?? 0),
      shardCountedMiB: mib(stats?.bytes ?? 0),
      evicted: stats?.evicted,
      fillSeconds: Number(seconds.toFixed(1)),
    }),
  );
  await provider.close();
}
