import { loadavg } from 'node:os';
import { runLoad, visitEachCookieOnce } from './load.js';
import { runPaced } from './paced.js';
import type { FillResult, RunResult, WindowResult } from './result.js';
import { FILL_CHECKS, type LoadWindow, type Scenario } from './scenarios.js';
import { delay, ServerProcess } from './server-process.js';

/** The steps of one measurement, for a progress display. */
export type Phase = 'start' | 'prefill' | 'warmup' | 'measure' | 'check';

// Lets requests still in flight when autocannon stops reach the server before the counter is read back.
const SETTLE_MS = 250;

/**
 * A fill of at least this many sessions is weighed again after the server sat idle `IDLE_SETTLE_MS`: right
 * after a fill, RSS still holds pages V8 freed but has not yet given back (its memory reducer uncommits them
 * once the allocation rate drops, a few seconds later), and a shard thread's heap, which the harness cannot
 * collect, still holds the fill's garbage. Measured at 1,000,000 sessions: 'memory' 276 B/session right after,
 * 220 after 6.6 s and then flat; 1 shard 350 → 300 at 6 s; map 231 → 211–226.
 */
const IDLE_SETTLE_SESSIONS = 100_000;
const IDLE_SETTLE_MS = 10_000;

/** Where and which time a run happens. */
export interface RunPlacement {
  /** 1-based index among the (scenario, server)'s repeats. */
  readonly repeat?: number;
  /** taskset CPU list for the server process (`--pin`). */
  readonly serverCpus?: string;
  readonly onPhase?: (phase: Phase) => void;
}

/** GET `path` with `cookie` and answers the body, failing on a non-2xx status. */
async function get(port: number, path: string, cookie: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: cookie ? { cookie } : {} });
  const body = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status} ${body}`);
  return body;
}

/** The session's counter, read back through HTTP. */
async function readCounter(port: number, cookie: string): Promise<number> {
  const body = await get(port, '/count', cookie);
  const value = Number(body);
  if (!Number.isFinite(value)) throw new Error(`/count answered ${body}`);
  return value;
}

/**
 * Fills the store, then collects garbage (so every server starts warm-up without the prefill's garbage) and
 * reads a few sessions back over HTTP: a prefill the server cannot read (a wrong cookie signature, say)
 * fails the run instead of measuring fresh sessions.
 */
async function fill(
  server: ServerProcess,
  scenario: Scenario,
): Promise<{ cookies: string[]; fill?: FillResult }> {
  if (scenario.prefill <= 0) {
    await server.collect();
    return { cookies: [] };
  }
  const before = await server.collect();
  const at = performance.now();
  const cookies = await server.prefill(scenario.prefill, scenario.sample);
  const seconds = (performance.now() - at) / 1000;
  const atFill = await server.collect();
  let after = atFill;
  if (scenario.prefill >= IDLE_SETTLE_SESSIONS) {
    await delay(IDLE_SETTLE_MS);
    after = await server.collect();
  }
  for (const cookie of cookies.slice(0, FILL_CHECKS)) {
    const body = await get(server.port, '/read', cookie);
    if (body !== 'u:0') throw new Error(`a prefilled session reads back as ${body}, not u:0`);
  }
  return {
    cookies,
    fill: {
      sessions: scenario.prefill,
      seconds,
      rssBeforeBytes: before.rssBytes,
      rssAfterBytes: after.rssBytes,
      bytesPerSession: (after.rssBytes - before.rssBytes) / scenario.prefill,
      bytesPerSessionAtFill: (atFill.rssBytes - before.rssBytes) / scenario.prefill,
    },
  };
}

/** One window: the server's counters zeroed when the measured part opens, read when the load ends. */
async function measureWindow(
  server: ServerProcess,
  window: LoadWindow,
  onPhase: (phase: Phase) => void,
): Promise<WindowResult> {
  onPhase('warmup');
  let resetDone: Promise<void> = Promise.resolve();
  const windows = {
    warmupS: window.warmupS,
    durationS: window.durationS,
    onMeasureStart: () => {
      onPhase('measure');
      resetDone = server.reset();
    },
  };
  const url = `http://127.0.0.1:${server.port}`;
  const load =
    window.rate === undefined
      ? await runLoad(url, window.plan, windows)
      : await runPaced(url, window.plan, {
          ...windows,
          rate: window.rate,
          ...(window.warmupPlan === undefined ? {} : { warmupPlan: window.warmupPlan }),
        });
  await resetDone;
  const stats = await server.stats();
  return {
    ...(window.rate === undefined ? {} : { rate: window.rate }),
    responses: load.responses,
    okPerSec: load.okPerSec,
    latencyMs: load.latencyMs,
    errors: load.errors + load.non2xx + stats.sessionErrors,
    clientCpuPercent: load.clientCpuPercent,
    serverCpuPercent: stats.cpuPercent,
    ...(load.ok > 0 ? { serverCpuUsPerRequest: stats.cpuMicros / load.ok } : {}),
    rssBytes: stats.rssBytes,
    eventLoopDelayP99Ms: stats.eventLoopDelayP99Ms,
    eventLoopDelayMaxMs: stats.eventLoopDelayMaxMs,
    ...(stats.opsPerFrame === undefined ? {} : { opsPerFrame: stats.opsPerFrame }),
    durationS: load.durationS,
  };
}

/**
 * Runs one scenario against one server in a fresh child process: start, prefill and garbage collection
 * (outside any measurement), then each of the scenario's windows, read back, close. A failure becomes a
 * result with `failure` set, so one broken server does not lose the rest of the run.
 */
export async function measure(
  serverName: string,
  scenario: Scenario,
  placement: RunPlacement = {},
): Promise<RunResult> {
  const onPhase = placement.onPhase ?? (() => {});
  const run = {
    scenario: scenario.name,
    server: serverName,
    repeat: placement.repeat ?? 1,
    loadAverage: loadavg()[0] ?? 0,
    connections: scenario.connections,
    ...(scenario.population === undefined ? {} : { population: scenario.population }),
  };
  const windows: RunResult['windows'] = {};
  let startS: number | undefined;
  let filled: FillResult | undefined;
  let server: ServerProcess | undefined;
  try {
    onPhase('start');
    const startedAt = performance.now();
    server = await ServerProcess.start(serverName, placement.serverCpus);
    startS = (performance.now() - startedAt) / 1000;
    onPhase('prefill');
    const { cookies, fill: fillResult } = await fill(server, scenario);
    filled = fillResult;
    const scenarioWindows = scenario.windows(cookies);
    const first = scenarioWindows[0];
    if (first !== undefined) {
      onPhase('warmup');
      await visitEachCookieOnce(`http://127.0.0.1:${server.port}`, first.plan);
    }
    for (const window of scenarioWindows) {
      windows[window.name] = await measureWindow(server, window, onPhase);
    }
    let lostUpdates: number | undefined;
    if (scenario.countsUpdates) {
      onPhase('check');
      await delay(SETTLE_MS);
      // Every increment since the server started (warm-up included) against the counter, which began at 0.
      const { incrAcks } = await server.stats();
      lostUpdates = incrAcks - (await readCounter(server.port, cookies[0] ?? ''));
    }
    return {
      ...run,
      startS,
      ...(filled === undefined ? {} : { fill: filled }),
      windows,
      ...(lostUpdates === undefined ? {} : { lostUpdates }),
    };
  } catch (error) {
    return {
      ...run,
      ...(startS === undefined ? {} : { startS }),
      ...(filled === undefined ? {} : { fill: filled }),
      windows,
      failure: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await server?.close();
  }
}
