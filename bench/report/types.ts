import type { ScenarioName } from '../harness/scenarios.js';
import type { ServerName } from '../servers/protocol.js';

/** Latency percentiles of one measurement, in ms (2xx responses). */
export interface LatencyMs {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** One scenario against one server: the shape of an entry of `bench/results/latest.json`. */
export interface BenchResult {
  readonly scenario: ScenarioName;
  readonly server: ServerName;
  readonly connections: number;
  /** Responses received in the measured window. */
  readonly requests: number;
  readonly reqPerSec: number;
  readonly latencyMs: LatencyMs;
  /** Connection errors, timeouts and non-2xx answers. */
  readonly errors: number;
  /** hot-session only: increments the server acknowledged minus the counter read back afterwards. */
  readonly lostUpdates?: number;
  readonly rssBytes?: number;
  readonly eventLoopDelayP99Ms?: number;
  /** The longest main-thread event-loop delay seen (a full GC of a big heap shows here first). */
  readonly eventLoopDelayMaxMs?: number;
  /** The same load paced at a fixed rate (full profile, read-mostly and large-population). */
  readonly paced?: {
    readonly rate: number;
    readonly reqPerSec: number;
    readonly latencyMs: LatencyMs;
    readonly eventLoopDelayP99Ms: number;
    readonly eventLoopDelayMaxMs: number;
  };
  /** Live sessions while measuring, where the scenario fixes it. */
  readonly population?: number;
  /** The load generator's CPU per wall time (% of one core); near 100 means the client was the limit. */
  readonly clientCpuPercent: number;
  /** The server process's CPU per wall time (% of one core, all its threads). */
  readonly serverCpuPercent: number;
  /** shard-session: store operations per frame sent to a shard (batching achieved; per call for 'memory'). */
  readonly opsPerFrame?: number;
  readonly durationS: number;
  /** Seconds the server took to start, and to create the scenario's sessions (both outside the measurement). */
  readonly startS?: number;
  readonly prefillS?: number;
  /** Set when the run failed: the other numbers are then zero. */
  readonly failure?: string;
}

/** The whole of `bench/results/latest.json`. */
export interface BenchReport {
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemoryBytes: number;
    readonly platform: string;
    readonly release: string;
    readonly loadAverage: readonly number[];
  };
  readonly versions: Record<string, string>;
  readonly profile: string;
  readonly startedAt: string;
  readonly elapsedS: number;
  readonly results: BenchResult[];
}
