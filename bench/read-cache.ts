/**
 * What the 'sharded' read cache buys at one connection: reads one at a time, a turn of the event loop between
 * them (as an HTTP connection's requests come), on 100 hot sessions: the memory provider, one shard with the
 * read cache, one shard without. Prints wall and process CPU (every thread) per read, rounds interleaved.
 * Run: `npm run build && node dist/bench/read-cache.js [reads]` (default 5,000 per round).
 */
import { encodeValue } from '../src/codec.js';
import { createMemoryProvider } from '../src/providers/memory.js';
import type { SessionProvider } from '../src/providers/provider.js';
import { createShardedProvider } from '../src/providers/sharded/provider.js';
import { generateSid } from '../src/sid.js';

const READS = Number(process.argv[2] ?? 5_000);
const POLICY = { idleTimeoutMs: 600_000, absoluteTimeoutMs: 6_000_000 };
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function measure(name: string, provider: SessionProvider): Promise<void> {
  const sids = Array.from({ length: 100 }, () => generateSid());
  const values = { set: [['user', encodeValue('ann')] as const, ['count', encodeValue(1)] as const] };
  for (const sid of sids) await provider.init(sid, POLICY, values);
  for (let i = 0; i < 500; i++) await provider.read(sids[i % 100] as string); // warm-up (and the cache)
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < READS; i++) {
    await provider.read(sids[i % 100] as string);
    await turn();
  }
  const wallUs = ((performance.now() - started) * 1000) / READS;
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / READS;
  console.log(`${name.padEnd(20)} wall ${wallUs.toFixed(1)} µs/read  CPU ${cpuUs.toFixed(1)} µs/read`);
  await provider.close();
}

for (let round = 0; round < 3; round++) {
  await measure('memory', createMemoryProvider({ gcIntervalMs: 0 }));
  await measure('sharded-1, cache', createShardedProvider({ shards: 1 }));
  await measure('sharded-1, no cache', createShardedProvider({ shards: 1, readCacheBytes: 0 }));
}
