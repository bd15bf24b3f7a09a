/** The whole of `bench/results/latest.json`. */

import type { Placement } from '../harness/pin.js';
import type { RunResult } from '../harness/result.js';
import type { Profile } from '../harness/scenarios.js';
import type { ServerDescription } from '../servers/registry.js';

export interface BenchReport {
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemoryBytes: number;
    readonly platform: string;
    readonly release: string;
    /** 1, 5 and 15-minute load averages when the run started (each run records its own too). */
    readonly loadAverage: readonly number[];
  };
  readonly versions: Record<string, string>;
  readonly profile: Profile;
  readonly placement: Placement;
  /** The 'sharded' server the report leads with and checks targets on, chosen before the run. */
  readonly reportedSharded: string;
  /** The servers that ran, in report order. */
  readonly servers: readonly ServerDescription[];
  /** Servers left out because an external service they need did not answer. */
  readonly skipped: ReadonlyArray<{ readonly server: string; readonly reason: string }>;
  readonly startedAt: string;
  readonly elapsedS: number;
  /** Every run, in the order it ran. */
  readonly runs: RunResult[];
  /** Only in partial.json (written after each run until the report is done): the runs planned in all. */
  readonly plannedRuns?: number;
}
