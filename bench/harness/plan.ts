/** The order of a bench run's measurements, and how long they should take. */
import type { Scenario } from './scenarios.js';

/** One measurement to make: a scenario, a server, which repeat. */
export interface PlannedRun {
  readonly scenario: Scenario;
  readonly server: string;
  readonly repeat: number;
}

/**
 * Scenario by scenario (so the servers of one table are measured close together in time), one pass over the
 * servers per repeat, interleaved: a burst of load from elsewhere on the machine then lands on one run of
 * several servers, not on every run of one. Each pass starts one server further along, so no server always
 * runs first (fresh after a pause) or right after the heaviest one.
 */
export function interleave(
  scenarios: readonly Scenario[],
  servers: readonly string[],
  repeat: number,
): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const scenario of scenarios) {
    for (let pass = 0; pass < repeat; pass++) {
      for (let i = 0; i < servers.length; i++) {
        runs.push({ scenario, server: servers[(i + pass) % servers.length] as string, repeat: pass + 1 });
      }
    }
  }
  return runs;
}

// Measured on the project's 2-core machine when quiet: starting a server (0.15–0.3 s), collecting its
// garbage, reading three sessions back, connecting the client and closing take about 0.45 s a run;
// prefills run at roughly 15 µs per session on average over the servers (2 M sessions: 13 s for map,
// 58 s for classic). A busy machine stretches all of it: the ETA printed during a run corrects for that.
const RUN_OVERHEAD_S = 0.45;
const FILL_S_PER_SESSION = 15e-6;

/** A rough duration of one run, in seconds, for the ETA printed before and during a bench run. */
export function estimateSeconds(scenario: Scenario): number {
  const windows = scenario.windows(Array.from({ length: scenario.sample }, () => ''));
  const load = windows.reduce((sum, w) => sum + w.warmupS + w.durationS, 0);
  return RUN_OVERHEAD_S + scenario.prefill * FILL_S_PER_SESSION + load;
}

/** `1h02m`, `4m05s`, `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}
