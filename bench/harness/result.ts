/** What one run measures: the shape of an entry of `runs` in `bench/results/latest.json`. */
import type { LatencyMs } from './load.js';
import type { ScenarioName, WindowName } from './scenarios.js';

/** One measured window of a run. */
export interface WindowResult {
  /** The paced rate asked for (req/s), when the window was paced. */
  readonly rate?: number;
  /** Responses received in the window, any status. */
  readonly responses: number;
  /** 2xx responses per second: only they count as served. */
  readonly okPerSec: number;
  readonly latencyMs: LatencyMs;
  /** Connection errors, timeouts, non-2xx answers, and failures the session layer reported out of band. */
  readonly errors: number;
  /** The load generator's CPU per wall time (% of one core); near 100 means the client was the limit. */
  readonly clientCpuPercent: number;
  /** The server process's CPU per wall time (% of one core, all its threads). */
  readonly serverCpuPercent: number;
  /** The server process's CPU time (all threads) per 2xx response, in µs. */
  readonly serverCpuUsPerRequest?: number;
  readonly rssBytes: number;
  /** The main thread's event-loop delay p99 and max, in ms. */
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** shard-session: store operations per frame sent to a shard (per call for 'memory'). */
  readonly opsPerFrame?: number;
  readonly durationS: number;
}

/** The prefill of a run, measured: what creating the sessions took and what they weigh. */
export interface FillResult {
  readonly sessions: number;
  /** Wall time of the prefill, through the store's own API in the server process. */
  readonly seconds: number;
  /**
   * RSS of the server process (all threads) after a garbage collection, before and after the fill; after a
   * fill of 100,000 sessions or more, once the server sat idle 10 s (measure.ts `IDLE_SETTLE_MS`).
   */
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  /** (after − before) / sessions. */
  readonly bytesPerSession: number;
  /** The same right after the fill's garbage collection (before results of 2026-11-27 have none). */
  readonly bytesPerSessionAtFill?: number;
}

/** One scenario against one server, one time. */
export interface RunResult {
  readonly scenario: ScenarioName;
  readonly server: string;
  /** 1-based index of this run among the (scenario, server)'s repeats. */
  readonly repeat: number;
  /** The machine's 1-minute load average just before the run started. */
  readonly loadAverage: number;
  readonly connections: number;
  /** Live sessions while measuring, where the scenario fixes it. */
  readonly population?: number;
  /** Seconds the server process took to start listening. */
  readonly startS?: number;
  readonly fill?: FillResult;
  readonly windows: Partial<Record<WindowName, WindowResult>>;
  /** hot-session: increments the server acknowledged minus the counter read back afterwards. */
  readonly lostUpdates?: number;
  /** Set when the run failed: what it measured before failing may be missing. */
  readonly failure?: string;
}
