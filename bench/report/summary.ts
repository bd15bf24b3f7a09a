import { SCENARIO_NAMES } from '../harness/scenarios.js';
import { checkTargets, throughputRatio } from './ratios.js';
import type { BenchResult } from './types.js';

const pad = (text: string, width: number) => text.padEnd(width);
const lpad = (text: string, width: number) => text.padStart(width);

/**
 * The one-screen summary printed at the end: req/s per scenario and server (with the ratio to map), the
 * hot-session losses, and the targets.
 */
export function renderSummary(results: readonly BenchResult[], servers: readonly string[]): string {
  const scenarios = SCENARIO_NAMES.filter((s) => results.some((r) => r.scenario === s));
  const short: Record<string, string> = {
    'new-session': 'new',
    'read-mostly': 'read',
    'read-modify-write': 'rmw',
    'hot-session': 'hot (lost)',
    'large-population': 'large',
    'low-concurrency': 'low (p50 ms)',
  };
  const width = 17;
  const lines = [`${pad('req/s (× map)', width)}${scenarios.map((s) => lpad(short[s] ?? s, 16)).join('')}`];
  for (const server of servers) {
    const cells = scenarios.map((scenario) => {
      const r = results.find((x) => x.scenario === scenario && x.server === server);
      if (r === undefined) return lpad('', 16);
      if (r.failure !== undefined) return lpad('failed', 16);
      const rate = Math.round(r.reqPerSec).toLocaleString('en-US');
      if (scenario === 'hot-session') return lpad(`${rate} (${r.lostUpdates ?? '?'})`, 16);
      if (scenario === 'low-concurrency') return lpad(`${rate} (${r.latencyMs.p50.toFixed(3)})`, 16);
      const vsMap = throughputRatio(results, r, 'map');
      return lpad(vsMap === undefined ? rate : `${rate} (${vsMap.toFixed(2)})`, 16);
    });
    lines.push(`${pad(server, width)}${cells.join('')}`);
  }
  lines.push('');
  for (const check of checkTargets(results)) {
    const mark = check.met === undefined ? '  ' : check.met ? 'ok' : 'NO';
    lines.push(`${mark} ${check.target}: ${check.measured}`);
  }
  const failures = results.filter((r) => r.failure !== undefined);
  for (const f of failures) lines.push(`FAILED ${f.scenario} × ${f.server}: ${f.failure?.split('\n')[0]}`);
  return lines.join('\n');
}
