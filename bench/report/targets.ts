/**
 * The issues' targets, checked on the medians of a run, always on the 'sharded' server chosen before the run
 * (`reportedSharded`), never on the best of the shard counts.
 */
import type { RunResult } from '../harness/result.js';
import { fillScenario, type Metric, pairedRatio, type Spread, spreadFor, windowMetric } from './aggregate.js';

/** One target, checked against a run. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** undefined when the run lacks what the check needs. */
  readonly met: boolean | undefined;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const range = (s: Spread, digits = 2) =>
  `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;

const okPerSec: Metric = windowMetric('load', (w) => w.okPerSec);
const readCost: Metric = windowMetric('read', (w) => w.serverCpuUsPerRequest);
const incrCost: Metric = windowMetric('incr', (w) => w.serverCpuUsPerRequest);
const p50: Metric = windowMetric('load', (w) => w.latencyMs.p50);
const bytesPerSession: Metric = (r) => r.fill?.bytesPerSession;

/** A ratio target: the median of the per-repeat ratios against `bound`. */
function ratioTarget(
  runs: readonly RunResult[],
  target: string,
  scenario: string,
  server: string,
  metric: Metric,
  meets: (median: number) => boolean,
): TargetCheck {
  const ratio = pairedRatio(runs, scenario, server, 'map', metric);
  return {
    target,
    measured: ratio === undefined ? 'not measured' : `${server}: ${range(ratio)}× map`,
    met: ratio === undefined ? undefined : meets(ratio.median),
  };
}

/** Every target, evaluated on these runs. */
export function checkTargets(runs: readonly RunResult[], sharded: string): TargetCheck[] {
  const checks: TargetCheck[] = [
    ratioTarget(
      runs,
      `cost /read: ${sharded} ≤ 1.4× map (issue 8)`,
      'cost',
      sharded,
      readCost,
      (m) => m <= 1.4,
    ),
    ratioTarget(
      runs,
      `cost /incr: ${sharded} ≤ 1.6× map (issue 8)`,
      'cost',
      sharded,
      incrCost,
      (m) => m <= 1.6,
    ),
    ratioTarget(
      runs,
      'cost /read: shard-memory ≤ 1.3× map (issue 8)',
      'cost',
      'shard-memory',
      readCost,
      (m) => m <= 1.3,
    ),
    ratioTarget(
      runs,
      'cost /incr: shard-memory ≤ 1.3× map (issue 8)',
      'cost',
      'shard-memory',
      incrCost,
      (m) => m <= 1.3,
    ),
    ratioTarget(
      runs,
      `read-modify-write: ${sharded} ≥ 0.85× map's 2xx/s (issue 8)`,
      'read-modify-write',
      sharded,
      okPerSec,
      (m) => m >= 0.85,
    ),
  ];
  const fill = fillScenario(runs);
  for (const server of [sharded, 'shard-memory']) {
    checks.push(
      ratioTarget(
        runs,
        `${fill}: ${server} RSS per session ≤ map's (issue 8)`,
        fill,
        server,
        bytesPerSession,
        (m) => m <= 1,
      ),
    );
  }

  const lowMap = spreadFor(runs, 'low-concurrency', 'map', p50);
  const low = spreadFor(runs, 'low-concurrency', sharded, p50);
  checks.push({
    target: `low-concurrency: ${sharded} p50 added over map ≤ 100 µs (issue 8)`,
    measured:
      low && lowMap
        ? `${fmt((low.median - lowMap.median) * 1000, 0)} µs (${fmt(low.median, 3)} vs ${fmt(lowMap.median, 3)} ms, medians)`
        : 'not measured',
    met: low && lowMap ? (low.median - lowMap.median) * 1000 <= 100 : undefined,
  });

  const hot = runs.filter((r) => r.scenario === 'hot-session' && r.server.startsWith('shard-') && !r.failure);
  const lost = hot.reduce((sum, r) => sum + (r.lostUpdates ?? 0), 0);
  checks.push({
    target: 'hot-session: 0 lost updates for every shard-session server, every run',
    measured: hot.length > 0 ? `${lost} lost over ${hot.length} runs` : 'not measured',
    met: hot.length === 0 ? undefined : lost === 0,
  });

  const paced = spreadFor(
    runs,
    'large-population',
    sharded,
    windowMetric('paced', (w) => w.eventLoopDelayP99Ms),
  );
  checks.push({
    target: `large-population: ${sharded} main event-loop delay p99 < 5 ms (paced)`,
    measured: paced ? `${range(paced)} ms` : 'not measured (no paced window in this profile)',
    met: paced === undefined ? undefined : paced.median < 5,
  });
  return checks;
}
