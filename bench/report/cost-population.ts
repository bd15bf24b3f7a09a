/** The tables issue 8 asked for: server CPU per request at one paced rate, and RSS per live session. */
import { fillScenario, type Metric, okRuns, pairedRatio, spreadFor, windowMetric } from './aggregate.js';
import { median, mib, num, ratio, spread } from './format.js';
import { cells, failureNote, serversIn, table } from './table.js';
import type { BenchReport } from './types.js';

const COST_TEXT =
  "Every server at the same paced rate, below everyone's capacity: server CPU per answered request.";
const POPULATION_TEXT =
  "The fill alone: live sessions of two small keys created through each store's own API.";

export function costSection(report: BenchReport): string[] {
  const { runs } = report;
  const servers = serversIn(report, 'cost');
  if (servers.length === 0) return [];
  const { rate, connections } = report.profile.cost;
  const us = (window: 'read' | 'incr'): Metric => windowMetric(window, (w) => w.serverCpuUsPerRequest);
  const rows = servers.map((server) => {
    const failure = failureNote(runs, 'cost', server);
    const ratioTo = (window: 'read' | 'incr') =>
      spread(pairedRatio(runs, 'cost', server, 'map', us(window)), ratio);
    const got = (window: 'read' | 'incr') =>
      median(
        spreadFor(
          runs,
          'cost',
          server,
          windowMetric(window, (w) => w.okPerSec),
        ),
      );
    const errors = spreadFor(
      runs,
      'cost',
      server,
      (r) => (r.windows.read?.errors ?? 0) + (r.windows.incr?.errors ?? 0),
    );
    return cells([
      server,
      spread(spreadFor(runs, 'cost', server, us('read')), (n) => num(n, 1)),
      ratioTo('read'),
      spread(spreadFor(runs, 'cost', server, us('incr')), (n) => num(n, 1)),
      ratioTo('incr'),
      `${got('read')} / ${got('incr')}`,
      median(
        spreadFor(
          runs,
          'cost',
          server,
          windowMetric('read', (w) => w.clientCpuPercent),
        ),
      ),
      median(errors) + (failure ? ` (${failure})` : ''),
    ]);
  });
  return [
    `## cost: server CPU per request at ${num(rate)} req/s`,
    '',
    `${COST_TEXT} ${num(connections)} connections, ${num(report.profile.sessions)} live sessions, /read then /incr on the same server process. ` +
      'CPU is the whole server process (main thread and every worker thread, user + system) divided by the 2xx answers of the window. ' +
      'A server whose 2xx/s falls short of the rate was saturated: its figure is then not comparable.',
    '',
    ...table(
      [
        'server',
        '/read µs/req',
        '× map',
        '/incr µs/req',
        '× map',
        '2xx/s /read / /incr',
        'client CPU %',
        'errors',
      ],
      rows,
    ),
    '',
  ];
}

export function populationSection(report: BenchReport): string[] {
  const { runs } = report;
  const scenario = fillScenario(runs);
  // Servers without a store (plain) have nothing to weigh.
  const stateless = new Set(report.servers.filter((s) => !s.keepsSessions).map((s) => s.name));
  const servers = serversIn(report, scenario).filter(
    (s) => !stateless.has(s) && okRuns(runs, scenario, s).some((r) => r.fill),
  );
  if (servers.length === 0) return [];
  const sessions = okRuns(runs, scenario, servers[0] as string)[0]?.fill?.sessions ?? 0;
  const bytes: Metric = (r) => r.fill?.bytesPerSession;
  const rows = servers.map((server) =>
    cells([
      server,
      spread(spreadFor(runs, scenario, server, bytes)),
      spread(pairedRatio(runs, scenario, server, 'map', bytes), ratio),
      median(
        spreadFor(runs, scenario, server, (r) => r.fill?.bytesPerSessionAtFill),
        (n) => num(n),
      ),
      spread(
        spreadFor(runs, scenario, server, (r) => r.fill?.seconds),
        (n) => num(n, 2),
      ),
      median(
        spreadFor(runs, scenario, server, (r) => (r.fill ? r.fill.sessions / r.fill.seconds : undefined)),
      ),
      median(
        spreadFor(runs, scenario, server, (r) => r.fill?.rssAfterBytes),
        mib,
      ),
    ]),
  );
  return [
    `## population: RSS per live session at ${num(sessions)} sessions`,
    '',
    `${POPULATION_TEXT} Measured in ${scenario}: RSS of the server process (all threads) after a forced garbage collection of the main thread, before and after the fill, divided by the sessions; ` +
      "after the fill, once the server sat idle 10 s (V8 gives freed pages back a few seconds after the allocation stops, and a shard thread's garbage is collected only then); 'at fill' is the same right after the fill's collection. " +
      "Fill time is the prefill through the store's API in the server process, not over HTTP. Servers without a store (plain) have no row.",
    '',
    ...table(['server', 'bytes/session', '× map', 'at fill', 'fill s', 'sessions/s', 'RSS after, MiB'], rows),
    '',
  ];
}
