/**
 * The entry point of a bench server's child process: `node --expose-gc dist/bench/servers/child.js <server>`.
 * Builds the server, tells the parent its port, then answers control messages (prefill, collect, reset,
 * stats, close) over the IPC channel. Measures what only the server can: its RSS, its main thread's
 * event-loop delay and its CPU time.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type {
  BenchServer,
  ControlMessage,
  ControlRequest,
  RouteCounters,
  ServerContext,
  ServerStats,
} from './protocol.js';
import { serverEntry } from './registry.js';
import { WINDOW_PROFILE_ENV, WindowProfiler } from './window-profile.js';

// 10 ms sampling: fine enough for a p99 in milliseconds, cheap enough not to disturb the server.
const ELD_RESOLUTION_MS = 10;

/**
 * How late the sampling timer fired, in ms. Node 20's histogram records the whole interval between samples
 * (an idle process shows a mean of ~10 ms at a 10 ms resolution), so the resolution is taken off.
 */
function lateness(intervalNs: number): number {
  return Math.max(0, intervalNs / 1e6 - ELD_RESOLUTION_MS);
}

function reply(message: ControlMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const entry = serverEntry(String(process.argv[2]));
  if (process.send === undefined) throw new Error('child.js must be started with an IPC channel (fork)');
  const collectGarbage = (globalThis as { gc?: () => void }).gc;
  if (collectGarbage === undefined) throw new Error('child.js must run with --expose-gc');

  const counters: RouteCounters = { incrAcks: 0, sessionErrors: 0 };
  const service = entry.service;
  const context: ServerContext = {
    counters,
    ...(service ? { serviceUrl: process.env[service.env] || service.defaultUrl } : {}),
  };
  const server: BenchServer = await (await entry.load())(context);
  const eventLoopDelay = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eventLoopDelay.enable();
  let cpuSince = process.cpuUsage();
  let wallSince = performance.now();
  let storeSince = (await server.storeCounters?.()) ?? { ops: 0, batches: 0, queryFrames: 0 };
  let sessionErrorsSince = 0;
  const profileDir = process.env[WINDOW_PROFILE_ENV];
  const profiler = profileDir ? new WindowProfiler(profileDir, String(process.argv[2])) : undefined;

  const stats = async (): Promise<ServerStats> => {
    const cpu = process.cpuUsage(cpuSince);
    const wallMs = performance.now() - wallSince;
    const memory = process.memoryUsage();
    const store = await server.storeCounters?.();
    // The reset's own stats frame is in storeSince; this query's own is taken off here.
    const batches = store ? store.batches - storeSince.batches - store.queryFrames : 0;
    return {
      ...(store && batches > 0 ? { opsPerFrame: (store.ops - storeSince.ops) / batches } : {}),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopDelayP99Ms: lateness(eventLoopDelay.percentile(99)),
      eventLoopDelayMaxMs: lateness(eventLoopDelay.max),
      cpuPercent: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
      cpuMicros: cpu.user + cpu.system,
      incrAcks: counters.incrAcks,
      sessionErrors: counters.sessionErrors - sessionErrorsSince,
    };
  };

  const handle = async (request: ControlRequest): Promise<ControlMessage> => {
    switch (request.type) {
      case 'prefill':
        return { id: request.id, ok: true, cookies: await server.prefill(request.count, request.sample) };
      case 'collect': {
        // Twice: the first pass can leave garbage that only finalizers of the first freed. Only the main
        // thread's heap: a worker's heap is collected by code in the worker, which the library owns.
        collectGarbage();
        collectGarbage();
        const { rss, heapUsed } = process.memoryUsage();
        return { id: request.id, ok: true, memory: { rssBytes: rss, heapUsedBytes: heapUsed } };
      }
      case 'hold': {
        // Keeps the event loop busy, so requests sent meanwhile are all read in the next poll phase: what
        // a loaded server sees, made exact for the batching test.
        const until = performance.now() + request.ms;
        while (performance.now() < until) {}
        return { id: request.id, ok: true };
      }
      case 'reset':
        eventLoopDelay.reset();
        cpuSince = process.cpuUsage();
        wallSince = performance.now();
        storeSince = (await server.storeCounters?.()) ?? storeSince;
        sessionErrorsSince = counters.sessionErrors;
        await profiler?.start();
        return { id: request.id, ok: true };
      case 'stats': {
        const answer = await stats();
        await profiler?.stop();
        return { id: request.id, ok: true, stats: answer };
      }
      case 'close':
        eventLoopDelay.disable();
        await server.close();
        return { id: request.id, ok: true };
    }
  };

  process.on('message', (request: ControlRequest) => {
    handle(request).then(
      (answer) => {
        reply(answer);
        if (request.type === 'close') process.disconnect();
      },
      (error: unknown) => reply({ id: request.id, ok: false, message: String(error) }),
    );
  });
  // The parent going away ends the child, so a crashed harness never leaves servers behind.
  process.on('disconnect', () => process.exit(0));
  reply({ type: 'ready', port: server.port });
}

main().catch((error: unknown) => {
  reply({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
