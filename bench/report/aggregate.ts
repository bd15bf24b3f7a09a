/**
 * From runs to reported figures: every figure is the median of a (scenario, server)'s runs with their
 * min–max, and every ratio is taken per repeat (runs of one repeat are measured close together in time)
 * before its median and min–max.
 */
import type { RunResult, WindowResult } from '../harness/result.js';
import type { WindowName } from '../harness/scenarios.js';

/** The median of some runs' values, with their extremes and how many there were. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** The spread of the defined values, or undefined when there are none. */
export function spreadOf(values: ReadonlyArray<number | undefined>): Spread | undefined {
  const sorted = values
    .filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return undefined;
  const middle = Math.floor(n / 2);
  const median =
    n % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[n - 1] as number, n };
}

/** The runs of `server` in `scenario` that did not fail. */
export function okRuns(runs: readonly RunResult[], scenario: string, server: string): RunResult[] {
  return runs.filter((r) => r.scenario === scenario && r.server === server && r.failure === undefined);
}

/** The runs of `server` in `scenario` that failed. */
export function failedRuns(runs: readonly RunResult[], scenario: string, server: string): RunResult[] {
  return runs.filter((r) => r.scenario === scenario && r.server === server && r.failure !== undefined);
}

/** Picks one number of a run (undefined when the run lacks it). */
export type Metric = (run: RunResult) => number | undefined;

/** A number of one window of a run. */
export function windowMetric(window: WindowName, pick: (w: WindowResult) => number | undefined): Metric {
  return (run) => {
    const measured = run.windows[window];
    return measured === undefined ? undefined : pick(measured);
  };
}

/** The spread of `metric` over the successful runs of `server` in `scenario`. */
export function spreadFor(
  runs: readonly RunResult[],
  scenario: string,
  server: string,
  metric: Metric,
): Spread | undefined {
  return spreadOf(okRuns(runs, scenario, server).map(metric));
}

/**
 * `metric` of `server` divided by the baseline's, repeat by repeat (repeat i of both was measured in the same
 * pass over the servers), then the spread of those ratios.
 */
export function pairedRatio(
  runs: readonly RunResult[],
  scenario: string,
  server: string,
  baseline: string,
  metric: Metric,
): Spread | undefined {
  const base = new Map(okRuns(runs, scenario, baseline).map((r) => [r.repeat, metric(r)]));
  const ratios = okRuns(runs, scenario, server).map((r) => {
    const mine = metric(r);
    const theirs = base.get(r.repeat);
    return mine === undefined || theirs === undefined || theirs <= 0 ? undefined : mine / theirs;
  });
  return spreadOf(ratios);
}

/**
 * Where the population figures come from: the population scenario where it ran, else large-population,
 * which makes the same fill (same sessions, same size, RSS after the same collection) before its load.
 */
export function fillScenario(runs: readonly RunResult[]): 'population' | 'large-population' {
  return runs.some((r) => r.scenario === 'population' && r.fill !== undefined)
    ? 'population'
    : 'large-population';
}
