import { SATURATING_SCENARIOS, type ScenarioName } from '../harness/scenarios.js';
import { type Metric, okRuns, pairedRatio, spreadFor, windowMetric } from './aggregate.js';
import { costSection, populationSection } from './cost-population.js';
import { median, mib, ms, num, ratio, spread } from './format.js';
import { cells, failureNote, serversIn, table } from './table.js';
import { checkTargets } from './targets.js';
import type { BenchReport } from './types.js';

export const SCENARIO_TEXT: Record<ScenarioName, string> = {
  cost: "Every server at the same paced rate, below everyone's capacity: server CPU per answered request.",
  population: "The fill alone: live sessions of two small keys created through each store's own API.",
  'new-session': 'No cookie; every request creates a session (a login storm).',
  'read-mostly': 'Existing sessions; each request reads 2 keys, one in ten also writes one.',
  'read-modify-write': 'Each request increments a counter in its own session.',
  'hot-session':
    'Every connection increments the counter of ONE session; lost updates are counted afterwards.',
  'large-population':
    'read-mostly with a large population of live sessions filled in-process before measuring.',
  'low-concurrency': 'read-mostly over 1 connection: the latency each request pays.',
};

const load = (pick: Parameters<typeof windowMetric>[1]) => windowMetric('load', pick);
const okPerSec = load((w) => w.okPerSec);

function scenarioSection(report: BenchReport, scenario: ScenarioName): string[] {
  const { runs } = report;
  const servers = serversIn(report, scenario);
  if (servers.length === 0) return [];
  const first = runs.find((r) => r.scenario === scenario);
  const population = first?.population === undefined ? '' : `, ${num(first.population)} live sessions`;
  const connections = first?.connections ?? 0;
  const rows = servers.map((server) => {
    const s = (metric: Metric) => spreadFor(runs, scenario, server, metric);
    const failure = failureNote(runs, scenario, server);
    if (okRuns(runs, scenario, server).length === 0) return cells([server, failure ?? 'no runs']);
    return cells([
      server + (failure ? ` (${failure})` : ''),
      spread(s(okPerSec)),
      spread(pairedRatio(runs, scenario, server, 'map', okPerSec), ratio),
      spread(pairedRatio(runs, scenario, server, 'express-session', okPerSec), ratio),
      spread(s(load((w) => w.latencyMs.p50)), ms),
      spread(s(load((w) => w.latencyMs.p99)), ms),
      median(s(load((w) => w.latencyMs.p999)), ms),
      median(s(load((w) => w.errors))),
      scenario === 'hot-session' ? spread(s((r) => r.lostUpdates)) : '–',
      median(s(load((w) => w.rssBytes)), mib),
      median(s(load((w) => w.eventLoopDelayP99Ms)), ms),
      median(s(load((w) => w.clientCpuPercent))),
      median(s(load((w) => w.serverCpuPercent))),
      spread(s(load((w) => w.serverCpuUsPerRequest))),
      median(s(load((w) => w.opsPerFrame)), (n) => num(n, 1)),
    ]);
  });
  const lines = [
    `## ${scenario}`,
    '',
    `${SCENARIO_TEXT[scenario]} ${connections} connection${connections === 1 ? '' : 's'}${population}.`,
    '',
    ...table(
      [
        'server',
        '2xx/s',
        '× map',
        '× express-session',
        'p50',
        'p99',
        'p99.9',
        'errors',
        'lost updates',
        'RSS',
        'ELD p99',
        'client CPU',
        'server CPU',
        'server µs/req',
        'ops/frame',
      ],
      rows,
    ),
    '',
  ];
  const pacedServers = servers.filter((server) =>
    okRuns(runs, scenario, server).some((r) => r.windows.paced),
  );
  if (pacedServers.length > 0) {
    const paced = (pick: Parameters<typeof windowMetric>[1]) => windowMetric('paced', pick);
    lines.push(
      `The same load paced at ${num(report.profile.pacedRate)} req/s (below every server's capacity), so the event-loop delay shows the store's cost, not the length of a saturated turn:`,
      '',
      ...table(
        ['server', '2xx/s', 'p50', 'p99', 'p99.9', 'ELD p99', 'ELD max'],
        pacedServers.map((server) => {
          const s = (metric: Metric) => spreadFor(runs, scenario, server, metric);
          return cells([
            server,
            median(s(paced((w) => w.okPerSec))),
            spread(s(paced((w) => w.latencyMs.p50)), ms),
            spread(s(paced((w) => w.latencyMs.p99)), ms),
            median(s(paced((w) => w.latencyMs.p999)), ms),
            spread(s(paced((w) => w.eventLoopDelayP99Ms)), ms),
            median(s(paced((w) => w.eventLoopDelayMaxMs)), ms),
          ]);
        }),
      ),
      '',
    );
  }
  return lines;
}

function header(report: BenchReport): string[] {
  const { machine, versions, profile, placement } = report;
  const loads = report.runs.map((r) => r.loadAverage).sort((a, b) => a - b);
  const loadText =
    loads.length === 0
      ? 'no runs'
      : `median ${num(loads[Math.floor(loads.length / 2)] as number, 2)}, min ${num(loads[0] as number, 2)}, max ${num(loads.at(-1) as number, 2)}`;
  const placementText =
    placement.mode === 'pinned'
      ? `**pinned** with taskset: client (autocannon, the paced undici client) on CPU ${placement.clientCpus}, each server on CPU ${placement.serverCpus}`
      : `**unpinned**: client and server share every core as the scheduler pleases${placement.note ? ` (${placement.note})` : ''}`;
  return [
    '# shard-session benchmark',
    '',
    `Profile **${profile.name}**: every (scenario, server) ran **${profile.repeat} times**, interleaved (one pass over the servers per repeat, the order rotated each pass). ` +
      `Saturating windows: ${profile.warmupS} s warm-up + ${profile.durationS} s measured; cost: ${profile.cost.warmupS} + ${profile.cost.durationS} s per route at ${num(profile.cost.rate)} req/s; population ${num(profile.population)}. ` +
      `Started ${report.startedAt}, took ${num(report.elapsedS)} s.`,
    '',
    ...(report.plannedRuns === undefined
      ? []
      : [
          `**Partial report**: ${num(report.runs.length)} of ${num(report.plannedRuns)} planned runs done (rewritten after each run; the run was stopped, or is still going). Figures are of the runs done: a (scenario, server) may have fewer runs than the profile's, or none.`,
          '',
        ]),
    `Machine: ${machine.cpus} × ${machine.cpuModel}, ${num(machine.totalMemoryBytes / 2 ** 30, 0)} GiB, ${machine.platform} ${machine.release}. ` +
      `Placement: ${placementText}. 1-minute load average before each run: ${loadText} (every run's is in latest.json).`,
    '',
    `Versions: ${Object.entries(versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
    '',
    `Reported 'sharded' server: **${report.reportedSharded}**, the library's default shard count on this machine, chosen before the run; the targets are checked on it, and the other shard counts are extra rows.`,
    ...(report.skipped.length > 0
      ? ['', `Skipped: ${report.skipped.map((s) => `${s.server} (${s.reason})`).join('; ')}.`]
      : []),
    '',
    'How to read: each figure is the **median of the runs [min–max]**; a ratio (× map, × express-session) is taken run by run against the baseline measured in the same pass, then its median [min–max]. ' +
      'Columns without a range show the median only (latest.json has every run). 2xx/s counts only 2xx answers. Latencies in ms, RSS in MiB, CPU in % of one core ' +
      '(client = the autocannon process; server = every thread of the server process); "server µs/req" = server CPU time per 2xx answer; "ops/frame" = store operations per message to a shard.',
    '',
    '## Servers',
    '',
    ...table(
      ['server', 'what it is'],
      report.servers.map((s) => cells([s.name, s.label])),
      true,
    ),
    '',
  ];
}

/** `bench/results/latest.md`: cost, population, one table per saturating scenario, the targets, the charts. */
export function renderMarkdown(report: BenchReport, charts: readonly string[]): string {
  const lines = [...header(report), ...costSection(report), ...populationSection(report)];
  for (const scenario of SATURATING_SCENARIOS) lines.push(...scenarioSection(report, scenario));
  lines.push('## Targets', '', '| target | measured (median [min–max]) | met |', '|---|---|---|');
  for (const check of checkTargets(report.runs, report.reportedSharded)) {
    const met = check.met === undefined ? '–' : check.met ? 'yes' : '**no**';
    lines.push(`| ${check.target} | ${check.measured} | ${met} |`);
  }
  if (charts.length > 0) lines.push('', '## Charts', '', ...charts.map((file) => `![${file}](${file})`));
  lines.push('');
  return lines.join('\n');
}
