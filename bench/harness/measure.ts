import type { BenchResult } from '../report/types.js';
import type { ServerName } from '../servers/protocol.js';
import { runLoad } from './load.js';
import type { Profile, Scenario } from './scenarios.js';
import { delay, ServerProcess } from './server-process.js';

/** The steps of one measurement, for a progress display. */
export type Phase = 'start' | 'prefill' | 'warmup' | 'measure' | 'paced' | 'check';

// Lets requests still in flight when autocannon stops reach the server before the counter is read back.
const SETTLE_MS = 250;
// The paced window follows the saturating one on new connections; this much of it is discarded.
const PACED_WARMUP_S = 0.5;

/** GET `path` with `cookie` and answers the body as a number (the session's counter). */
async function readCounter(port: number, cookie: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/count`, { headers: cookie ? { cookie } : {} });
  const body = await response.text();
  const value = Number(body);
  if (!response.ok || !Number.isFinite(value)) throw new Error(`/count answered ${response.status} ${body}`);
  return value;
}

/**
 * Runs one scenario against one server in a fresh child process: start, prefill (outside the measured
 * window), warm up, measure, read back, close. A failure becomes a result with `failure` set, so one broken
 * server does not lose the rest of the run.
 */
export async function measure(
  serverName: ServerName,
  scenario: Scenario,
  profile: Profile,
  onPhase: (phase: Phase) => void = () => {},
): Promise<BenchResult> {
  onPhase('start');
  let server: ServerProcess | undefined;
  try {
    const startedAt = performance.now();
    server = await ServerProcess.start(serverName);
    const port = server.port;
    const url = `http://127.0.0.1:${port}`;
    onPhase('prefill');
    const prefillAt = performance.now();
    const cookies = scenario.prefill > 0 ? await server.prefill(scenario.prefill, scenario.sample) : [];
    const setup = {
      startS: (prefillAt - startedAt) / 1000,
      prefillS: (performance.now() - prefillAt) / 1000,
    };
    onPhase('warmup');
    const running = server;
    let resetDone: Promise<void> = Promise.resolve();
    const load = await runLoad(url, scenario.plan(cookies), {
      warmupS: profile.warmupS,
      durationS: profile.durationS,
      onMeasureStart: () => {
        onPhase('measure');
        resetDone = running.reset();
      },
    });
    await resetDone;
    const stats = await server.stats();

    let paced: BenchResult['paced'];
    if (scenario.paced && profile.pacedRate > 0 && profile.pacedS > 0) {
      onPhase('paced');
      let pacedReset: Promise<void> = Promise.resolve();
      const slow = await runLoad(url, scenario.plan(cookies), {
        warmupS: PACED_WARMUP_S,
        durationS: profile.pacedS,
        rate: profile.pacedRate,
        onMeasureStart: () => {
          pacedReset = running.reset();
        },
      });
      await pacedReset;
      const pacedStats = await server.stats();
      paced = {
        rate: profile.pacedRate,
        reqPerSec: slow.reqPerSec,
        latencyMs: slow.latencyMs,
        eventLoopDelayP99Ms: pacedStats.eventLoopDelayP99Ms,
        eventLoopDelayMaxMs: pacedStats.eventLoopDelayMaxMs,
      };
    }

    let lostUpdates: number | undefined;
    if (scenario.countsUpdates) {
      onPhase('check');
      await delay(SETTLE_MS);
      // Every increment since the server started (warm-up included) against the counter, which began at 0.
      const { incrAcks } = await server.stats();
      lostUpdates = incrAcks - (await readCounter(port, cookies[0] ?? ''));
    }
    return {
      scenario: scenario.name,
      server: serverName,
      connections: scenario.connections,
      requests: load.requests,
      reqPerSec: load.reqPerSec,
      latencyMs: load.latencyMs,
      errors: load.errors + load.non2xx,
      ...(lostUpdates === undefined ? {} : { lostUpdates }),
      rssBytes: stats.rssBytes,
      eventLoopDelayP99Ms: stats.eventLoopDelayP99Ms,
      eventLoopDelayMaxMs: stats.eventLoopDelayMaxMs,
      ...(scenario.population === undefined ? {} : { population: scenario.population }),
      ...(paced === undefined ? {} : { paced }),
      clientCpuPercent: load.clientCpuPercent,
      serverCpuPercent: stats.cpuPercent,
      ...(stats.opsPerFrame === undefined ? {} : { opsPerFrame: stats.opsPerFrame }),
      durationS: load.durationS,
      ...setup,
    };
  } catch (error) {
    return {
      scenario: scenario.name,
      server: serverName,
      connections: scenario.connections,
      requests: 0,
      reqPerSec: 0,
      latencyMs: { p50: 0, p99: 0, p999: 0, max: 0 },
      errors: 0,
      clientCpuPercent: 0,
      serverCpuPercent: 0,
      durationS: 0,
      failure: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await server?.close();
  }
}
