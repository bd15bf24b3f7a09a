import { SCENARIO_NAMES } from '../harness/scenarios.js';
import { checkTargets, throughputRatio } from './ratios.js';
import type { BenchReport, BenchResult } from './types.js';

const SCENARIO_TEXT: Record<(typeof SCENARIO_NAMES)[number], string> = {
  'new-session': 'No cookie; every request creates a session (a login storm).',
  'read-mostly': 'Existing sessions; each request reads 2 keys, one in ten also writes one.',
  'read-modify-write': 'Each request increments a counter in its own session.',
  'hot-session':
    'Every connection increments the counter of ONE session; lost updates are counted afterwards.',
  'large-population':
    'read-mostly with a large population of live sessions filled in-process before measuring.',
  'low-concurrency': 'read-mostly over 1 connection: the latency each request pays.',
};

const num = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number) => (n < 10 ? num(n, 3) : n < 100 ? num(n, 2) : num(n, 1));
const ratio = (n: number | undefined) => (n === undefined ? '–' : `${num(n, 2)}×`);
const mb = (bytes: number | undefined) => (bytes === undefined ? '–' : num(bytes / 2 ** 20, 0));

function row(results: readonly BenchResult[], r: BenchResult): string {
  if (r.failure !== undefined)
    return `| ${r.server} | failed: ${r.failure.replaceAll('|', '/').slice(0, 200)} |`;
  return [
    '',
    r.server,
    num(r.reqPerSec),
    ratio(throughputRatio(results, r, 'map')),
    ratio(throughputRatio(results, r, 'express-session')),
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p99),
    ms(r.latencyMs.p999),
    ms(r.latencyMs.max),
    num(r.errors),
    r.lostUpdates === undefined ? '–' : num(r.lostUpdates),
    mb(r.rssBytes),
    r.eventLoopDelayP99Ms === undefined ? '–' : ms(r.eventLoopDelayP99Ms),
    num(r.clientCpuPercent),
    num(r.serverCpuPercent),
    r.reqPerSec > 0 ? num((r.serverCpuPercent / 100 / r.reqPerSec) * 1e6) : '–',
    r.opsPerFrame === undefined ? '–' : num(r.opsPerFrame, 1),
    '',
  ]
    .join(' | ')
    .trim();
}

/** `bench/results/latest.md`: per scenario a table with ratios to `map` and `express-session`, then the targets. */
export function renderMarkdown(report: BenchReport, charts: readonly string[]): string {
  const { machine, versions } = report;
  const lines: string[] = [
    '# shard-session benchmark',
    '',
    `Profile **${report.profile}**, started ${report.startedAt}, took ${num(report.elapsedS)} s.`,
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${num(machine.totalMemoryBytes / 2 ** 30, 0)} GiB, ` +
      `${machine.platform} ${machine.release}, load average before the run ${machine.loadAverage.map((l) => l.toFixed(2)).join(' / ')}.`,
    `Versions: ${Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
    '',
    'Reproduce: `npm run bench` (full) or `npm run bench:quick`. Absolute numbers drift on shared machines:',
    'compare the ratios, which come from the same run. Latencies in ms, RSS in MiB, CPU in % of one core',
    '(client = the autocannon process; server = every thread of the server process). "server µs/req" is the',
    'server\'s CPU time per request, the figure least moved by other load on the machine; "ops/frame" is the',
    "batching shard-session's router achieved (store operations per message to a shard).",
    '',
  ];
  for (const scenario of SCENARIO_NAMES) {
    const rows = report.results.filter((r) => r.scenario === scenario);
    if (rows.length === 0) continue;
    const first = rows[0] as BenchResult;
    const population = first.population === undefined ? '' : `, ${num(first.population)} live sessions`;
    lines.push(
      `## ${scenario}`,
      '',
      `${SCENARIO_TEXT[scenario]} ${first.connections} connection${first.connections === 1 ? '' : 's'}${population}.`,
      '',
      '| server | req/s | × map | × express-session | p50 | p99 | p99.9 | max | errors | lost updates | RSS | ELD p99 | client CPU | server CPU | server µs/req | ops/frame |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
      ...rows.map((r) => row(report.results, r)),
      '',
    );
    const paced = rows.filter((r) => r.paced !== undefined);
    if (paced.length > 0) {
      lines.push(
        `The same load paced at ${num(paced[0]?.paced?.rate ?? 0)} req/s (below every server's capacity), so the event-loop delay shows the store's cost, not the length of a saturated turn:`,
        '',
        '| server | req/s | p50 | p99 | p99.9 | max | ELD p99 | ELD max |',
        '|---|--:|--:|--:|--:|--:|--:|--:|',
        ...paced.map((r) => {
          const p = r.paced as NonNullable<BenchResult['paced']>;
          const l = p.latencyMs;
          return `| ${r.server} | ${num(p.reqPerSec)} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} | ${ms(p.eventLoopDelayP99Ms)} | ${ms(p.eventLoopDelayMaxMs)} |`;
        }),
        '',
      );
    }
  }
  lines.push('## Targets', '', '| target | measured | met |', '|---|---|---|');
  for (const check of checkTargets(report.results)) {
    const met = check.met === undefined ? '–' : check.met ? 'yes' : '**no**';
    lines.push(`| ${check.target} | ${check.measured} | ${met} |`);
  }
  if (charts.length > 0) {
    lines.push('', '## Charts', '', ...charts.map((file) => `![${file}](${file})`));
  }
  lines.push('');
  return lines.join('\n');
}
