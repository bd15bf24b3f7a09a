/**
 * The entry point of a bench server's child process: `node dist/bench/servers/child.js <server-name>`.
 * Builds the server, tells the parent its port, then answers control messages (prefill, reset, stats,
 * close) over the IPC channel. Measures what only the server can: its RSS, its main thread's event-loop
 * delay and its CPU time.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  type BenchServer,
  type ControlMessage,
  type ControlRequest,
  type RouteCounters,
  SERVER_NAMES,
  type ServerName,
  type ServerStats,
} from './protocol.js';
import { SERVER_FACTORIES } from './registry.js';

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
  const name = process.argv[2] as ServerName;
  if (!SERVER_NAMES.includes(name)) throw new Error(`unknown bench server: ${String(name)}`);
  if (process.send === undefined) throw new Error('child.js must be started with an IPC channel (fork)');

  const counters: RouteCounters = { incrAcks: 0 };
  const server: BenchServer = await (await SERVER_FACTORIES[name]())(counters);
  const eventLoopDelay = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eventLoopDelay.enable();
  let cpuSince = process.cpuUsage();
  let wallSince = performance.now();
  let storeSince = (await server.storeCounters?.()) ?? { ops: 0, batches: 0 };

  const stats = async (): Promise<ServerStats> => {
    const cpu = process.cpuUsage(cpuSince);
    const wallMs = performance.now() - wallSince;
    const memory = process.memoryUsage();
    const store = await server.storeCounters?.();
    const batches = store ? store.batches - storeSince.batches : 0;
    return {
      ...(store && batches > 0 ? { opsPerFrame: (store.ops - storeSince.ops) / batches } : {}),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopDelayP99Ms: lateness(eventLoopDelay.percentile(99)),
      eventLoopDelayMaxMs: lateness(eventLoopDelay.max),
      cpuPercent: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
      incrAcks: counters.incrAcks,
    };
  };

  const handle = async (request: ControlRequest): Promise<ControlMessage> => {
    switch (request.type) {
      case 'prefill':
        return { id: request.id, ok: true, cookies: await server.prefill(request.count, request.sample) };
      case 'reset':
        eventLoopDelay.reset();
        cpuSince = process.cpuUsage();
        wallSince = performance.now();
        storeSince = (await server.storeCounters?.()) ?? storeSince;
        return { id: request.id, ok: true };
      case 'stats':
        return { id: request.id, ok: true, stats: await stats() };
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
