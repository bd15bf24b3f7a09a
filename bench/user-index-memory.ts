/**
 * What the user index (issue 13) costs in memory: heap growth, after a full GC, of binding N sessions of a
 * 'memory' provider to users (N/4 users, four devices each), compared with the same N unbound sessions.
 * Run: `npm run build && node --expose-gc dist/bench/user-index-memory.js [N]` (default 100,000).
 */
import { createMemoryProvider } from '../src/providers/memory.js';
import { generateSid } from '../src/sid.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const N = Number(process.argv[2] ?? 100_000);
const POLICY = { idleTimeoutMs: 3_600_000, absoluteTimeoutMs: 86_400_000 };

function heap(): number {
  (gc as () => void)();
  (gc as () => void)();
  return process.memoryUsage().heapUsed;
}

const provider = createMemoryProvider({ gcIntervalMs: 0, maxSessions: N * 2 });
const sids = Array.from({ length: N }, () => generateSid());
const base = heap();
for (const sid of sids) await provider.init(sid, POLICY);
const unbound = heap();
let started = performance.now();
for (let i = 0; i < N; i++) await provider.bindUser(sids[i] as string, `user-${Math.floor(i / 4)}`);
const bindMs = performance.now() - started;
const bound = heap();
started = performance.now();
for (let i = 0; i < N / 4; i++) await provider.sessionsOf(`user-${i}`);
const listUs = ((performance.now() - started) * 1000) / (N / 4);
console.log(
  JSON.stringify({
    sessions: N,
    unboundBytesPerSession: Math.round((unbound - base) / N),
    bindingBytesPerSession: Math.round((bound - unbound) / N),
    bindUsPerSession: Number(((bindMs * 1000) / N).toFixed(2)),
    sessionsOfUsPerUserOf4: Number(listUs.toFixed(2)),
  }),
);
await provider.close();
