import type { BenchResult } from './types.js';

/** The baselines every figure is compared with, measured in the same run. */
export const BASELINES = ['map', 'express-session'] as const;

/** The result of `server` in `scenario`, if it ran and did not fail. */
export function find(
  results: readonly BenchResult[],
  scenario: string,
  server: string,
): BenchResult | undefined {
  return results.find((r) => r.scenario === scenario && r.server === server && r.failure === undefined);
}

/** `result`'s throughput as a multiple of the baseline's in the same scenario, or undefined. */
export function throughputRatio(
  results: readonly BenchResult[],
  result: BenchResult,
  baseline: string,
): number | undefined {
  const base = find(results, result.scenario, baseline);
  if (base === undefined || base.reqPerSec <= 0 || result.failure !== undefined) return undefined;
  return result.reqPerSec / base.reqPerSec;
}

/** The 'sharded' result with the highest throughput in a scenario. */
export function bestSharded(results: readonly BenchResult[], scenario: string): BenchResult | undefined {
  return results
    .filter((r) => r.scenario === scenario && r.server.startsWith('shard-sharded') && r.failure === undefined)
    .sort((a, b) => b.reqPerSec - a.reqPerSec)[0];
}

/** One of the targets, checked against a run. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** undefined when the run lacks what the check needs. */
  readonly met: boolean | undefined;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);

/** The targets ("What we want to see"), evaluated on these results. */
export function checkTargets(results: readonly BenchResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];

  const rmw = bestSharded(results, 'read-modify-write');
  const rmwMap = rmw && throughputRatio(results, rmw, 'map');
  const rmwExpress = rmw && throughputRatio(results, rmw, 'express-session');
  checks.push({
    target: "read-modify-write: best 'sharded' ≥ 0.9× map",
    measured: rmw && rmwMap !== undefined ? `${rmw.server}: ${fmt(rmwMap)}× map` : 'not measured',
    met: rmwMap === undefined ? undefined : rmwMap >= 0.9,
  });
  checks.push({
    target: "read-modify-write: best 'sharded' ≥ 5× express-session",
    measured:
      rmw && rmwExpress !== undefined ? `${rmw.server}: ${fmt(rmwExpress)}× express-session` : 'not measured',
    met: rmwExpress === undefined ? undefined : rmwExpress >= 5,
  });

  const hot = results.filter(
    (r) => r.scenario === 'hot-session' && r.server.startsWith('shard-') && !r.failure,
  );
  const lost = hot.reduce((sum, r) => sum + (r.lostUpdates ?? 0), 0);
  checks.push({
    target: 'hot-session: 0 lost updates for shard-session',
    measured: hot.length > 0 ? `${lost} lost over ${hot.length} shard-session servers` : 'not measured',
    met: hot.length === 0 ? undefined : lost === 0,
  });

  const large = bestSharded(results, 'large-population');
  const largeMap = find(results, 'large-population', 'map');
  const tailRatio =
    large && largeMap && largeMap.latencyMs.p999 > 0
      ? large.latencyMs.p999 / largeMap.latencyMs.p999
      : undefined;
  checks.push({
    target: "large-population: best 'sharded' p99.9 ≤ 0.25× map's",
    measured:
      large && largeMap && tailRatio !== undefined
        ? `${large.server}: ${fmt(large.latencyMs.p999)} ms vs map ${fmt(largeMap.latencyMs.p999)} ms (${fmt(tailRatio)}×)`
        : 'not measured',
    met: tailRatio === undefined ? undefined : tailRatio <= 0.25,
  });
  const eld = large?.eventLoopDelayP99Ms;
  checks.push({
    target: "large-population: best 'sharded' main event-loop delay p99 < 5 ms (saturating load)",
    measured: large && eld !== undefined ? `${large.server}: ${fmt(eld)} ms` : 'not measured',
    met: eld === undefined ? undefined : eld < 5,
  });
  // Below saturation the delay shows what the store costs the main thread, not how long a busy turn is.
  const pacedShards = results.filter(
    (r) => r.scenario === 'large-population' && r.server.startsWith('shard-sharded') && r.paced && !r.failure,
  );
  const bestPaced = pacedShards.sort(
    (a, b) => (a.paced?.eventLoopDelayP99Ms ?? 0) - (b.paced?.eventLoopDelayP99Ms ?? 0),
  )[0];
  if (bestPaced?.paced !== undefined) {
    const mapPaced = find(results, 'large-population', 'map')?.paced;
    checks.push({
      target: `large-population: best 'sharded' main event-loop delay p99 < 5 ms (paced, ${bestPaced.paced.rate} req/s)`,
      measured:
        `${bestPaced.server}: ${fmt(bestPaced.paced.eventLoopDelayP99Ms)} ms` +
        (mapPaced ? ` (map ${fmt(mapPaced.eventLoopDelayP99Ms)} ms)` : ''),
      met: bestPaced.paced.eventLoopDelayP99Ms < 5,
    });
  }

  const lowMap = find(results, 'low-concurrency', 'map');
  for (const server of ['shard-memory', 'shard-sharded-1', 'shard-sharded-2', 'shard-sharded-4']) {
    const low = find(results, 'low-concurrency', server);
    if (low === undefined || lowMap === undefined) continue;
    const added = low.latencyMs.p50 - lowMap.latencyMs.p50;
    checks.push({
      target: `low-concurrency: p50 added over map (${server})`,
      measured: `${fmt(added * 1000, 0)} µs (${fmt(low.latencyMs.p50, 3)} ms vs ${fmt(lowMap.latencyMs.p50, 3)} ms)`,
      met: undefined,
    });
  }
  return checks;
}
