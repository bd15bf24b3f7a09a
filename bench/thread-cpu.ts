/**
 * Where a server's CPU per request goes, thread by thread: the cost scenario's paced load (6,000 req/s over 50
 * connections, 10,000 sessions, every cookie visited once first) on one route, with each thread's user and
 * system time read from /proc/<pid>/task before and after the window (Linux only; 10 ms clock ticks, so run a
 * few seconds). The cost table gives the process's total; this shows how much of it is the main thread, the
 * shard threads and V8's own (GC, compiler) threads, and how much of it the kernel (system time: wake-ups,
 * sockets). Threads other than the main one are named by id (Node names none of them: a shard's is the one
 * whose time grows with the operations, the others are V8's and libuv's).
 *
 *   npm run build && node dist/bench/thread-cpu.js shard-sharded-1 /incr [seconds] [rate]
 */
import { visitEachCookieOnce } from './harness/load.js';
import { runPaced } from './harness/paced.js';
import { routeEach } from './harness/scenarios.js';
import { ServerProcess } from './harness/server-process.js';
import { threadTimes } from './harness/thread-times.js';

const [server = 'shard-sharded-1', route = '/incr'] = process.argv.slice(2);
const seconds = Number(process.argv[4] ?? 6);
const rate = Number(process.argv[5] ?? 6_000);
const CONNECTIONS = 50;
const SESSIONS = 10_000;
const child = await ServerProcess.start(server);
try {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${server} has no process id`);
  const cookies = await child.prefill(SESSIONS, SESSIONS);
  const url = `http://127.0.0.1:${child.port}`;
  // The cost scenario's plan: each connection round its own sessions.
  const plan = routeEach(route, cookies, CONNECTIONS);
  await visitEachCookieOnce(url, plan);
  // Warm-up: the JIT compiles the request path (its compiler threads would count in the window).
  await runPaced(url, plan, { warmupS: 2, durationS: 0.1, rate });
  const before = threadTimes(pid);
  const load = await runPaced(url, plan, { warmupS: 0, durationS: seconds, rate });
  const after = threadTimes(pid);
  const perRequest = (us: number) => us / load.ok;
  console.log(`${server} ${route}: ${load.ok} answers at ${rate} req/s; CPU µs per answer, by thread`);
  let user = 0;
  let system = 0;
  for (const [tid, end] of after) {
    const start = before.get(tid) ?? { user: 0, system: 0 };
    const u = perRequest(end.user - start.user);
    const s = perRequest(end.system - start.system);
    user += u;
    system += s;
    const role = tid === String(pid) ? 'main' : `thread ${tid}`;
    if (u + s > 0)
      console.log(
        `  ${role.padEnd(16)} user ${u.toFixed(1).padStart(6)}  system ${s.toFixed(1).padStart(6)}`,
      );
  }
  console.log(
    `  ${'all threads'.padEnd(16)} user ${user.toFixed(1).padStart(6)}  system ${system.toFixed(1).padStart(6)}`,
  );
} finally {
  await child.close();
}
