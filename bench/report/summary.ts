import type { ScenarioName } from '../harness/scenarios.js';
import { fillScenario, type Metric, pairedRatio, spreadFor, windowMetric } from './aggregate.js';
import { checkTargets } from './targets.js';
import type { BenchReport } from './types.js';

const lpad = (text: string, width: number) => text.padStart(width);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

interface Column {
  readonly title: string;
  readonly scenario: ScenarioName;
  /** The cell of one server, or undefined when it has no runs there. */
  cell(report: BenchReport, server: string): string | undefined;
}

const okPerSec: Metric = windowMetric('load', (w) => w.okPerSec);

function costColumn(route: 'read' | 'incr'): Column {
  const us = windowMetric(route, (w) => w.serverCpuUsPerRequest);
  return {
    title: `µs /${route} (×map)`,
    scenario: 'cost',
    cell: (report, server) => {
      const s = spreadFor(report.runs, 'cost', server, us);
      const r = pairedRatio(report.runs, 'cost', server, 'map', us);
      return s && `${s.median.toFixed(1)} (${r ? r.median.toFixed(2) : '–'})`;
    },
  };
}

function throughputColumn(scenario: ScenarioName, title: string): Column {
  return {
    title,
    scenario,
    cell: (report, server) => {
      const s = spreadFor(report.runs, scenario, server, okPerSec);
      if (s === undefined) return undefined;
      if (scenario === 'hot-session') {
        const lost = spreadFor(report.runs, scenario, server, (r) => r.lostUpdates);
        return `${int(s.median)} (${lost ? int(lost.median) : '?'})`;
      }
      const r = pairedRatio(report.runs, scenario, server, 'map', okPerSec);
      return `${int(s.median)} (${r ? r.median.toFixed(2) : '–'})`;
    },
  };
}

const COLUMNS: readonly Column[] = [
  costColumn('read'),
  costColumn('incr'),
  {
    title: 'B/session',
    scenario: 'population',
    cell: (report, server) => {
      if (report.servers.find((s) => s.name === server)?.keepsSessions === false) return '–';
      const scenario = fillScenario(report.runs);
      const s = spreadFor(report.runs, scenario, server, (r) => r.fill?.bytesPerSession);
      return s && int(s.median);
    },
  },
  throughputColumn('new-session', 'new'),
  throughputColumn('read-mostly', 'read'),
  throughputColumn('read-modify-write', 'rmw'),
  throughputColumn('hot-session', 'hot (lost)'),
  throughputColumn('large-population', 'large'),
  throughputColumn('low-concurrency', 'low'),
];

/**
 * The one-screen summary printed at the end, all medians: server CPU per request at the paced rate, bytes per
 * session, 2xx/s per scenario with the ratio to map (lost updates for hot-session), then the targets.
 */
export function renderSummary(report: BenchReport): string {
  const servers = report.servers.map((s) => s.name);
  const ran = (scenario: ScenarioName) =>
    report.runs.some(
      (r) => r.scenario === scenario || (scenario === 'population' && r.scenario === 'large-population'),
    );
  const columns = COLUMNS.filter((c) => ran(c.scenario));
  const nameWidth = Math.max(14, ...servers.map((s) => s.length)) + 1;
  const width = 17;
  const lines = [
    `medians of ${report.profile.repeat} runs${' '.repeat(Math.max(1, nameWidth - 14))}${columns.map((c) => lpad(c.title, width)).join('')}`,
  ];
  for (const server of servers) {
    const cells = columns.map((c) => lpad(c.cell(report, server) ?? '', width));
    lines.push(`${server.padEnd(nameWidth)}${cells.join('')}`);
  }
  lines.push('');
  for (const check of checkTargets(report.runs, report.reportedSharded)) {
    const mark = check.met === undefined ? '  ' : check.met ? 'ok' : 'NO';
    lines.push(`${mark} ${check.target}: ${check.measured}`);
  }
  for (const f of report.runs.filter((r) => r.failure !== undefined))
    lines.push(`FAILED ${f.scenario} × ${f.server} #${f.repeat}: ${f.failure?.split('\n')[0]}`);
  return lines.join('\n');
}
