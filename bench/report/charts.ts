import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunResult } from '../harness/result.js';
import { SCENARIO_NAMES } from '../harness/scenarios.js';
import type { ServerFamily } from '../servers/registry.js';
import { fillScenario, type Metric, spreadFor, windowMetric } from './aggregate.js';
import type { BenchReport } from './types.js';

/** Renders a Vega-Lite spec to an SVG string, headless (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const scenarioOrder = [...SCENARIO_NAMES];

// Bounds in greys, the classic port in reds, peers in warm colours, shard-session in blues: "ours" reads as
// one family, whatever servers a run had.
const PALETTES: Record<ServerFamily, readonly string[]> = {
  bound: ['#bdbdbd', '#969696', '#636363', '#d9d9d9'],
  classic: ['#d62728', '#ff9896'],
  peer: ['#ff7f0e', '#bcbd22', '#8c564b', '#ffbb78', '#e377c2', '#dbdb8d'],
  shard: ['#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b', '#c6dbef'],
};

function serverColors(report: BenchReport) {
  const used: Record<string, number> = {};
  const range = report.servers.map((s) => {
    const palette = PALETTES[s.family];
    const index = used[s.family] ?? 0;
    used[s.family] = index + 1;
    return palette[index % palette.length] as string;
  });
  const domain = report.servers.map((s) => s.name);
  return { field: 'server', type: 'nominal', sort: domain, scale: { domain, range } } as const;
}

/** One datum per (scenario, server) with the median and the min–max of `metric` over the runs. */
function spreads(report: BenchReport, scenarios: readonly string[], metric: Metric, extra = {}) {
  return scenarios.flatMap((scenario) =>
    report.servers.flatMap((server) => {
      const s = spreadFor(report.runs, scenario, server.name, metric);
      return s === undefined
        ? []
        : [{ scenario, server: server.name, median: s.median, min: s.min, max: s.max, runs: s.n, ...extra }];
    }),
  );
}

/** A bar per server at the median with a rule from min to max: the runs' spread. */
function barsWithSpread(report: BenchReport, title: string) {
  const servers = report.servers.map((s) => s.name);
  return {
    width: 220,
    height: Math.max(120, servers.length * 14),
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'server', type: 'nominal', sort: servers, title: null },
          x: { field: 'median', type: 'quantitative', title },
          color: { ...serverColors(report), legend: null },
          tooltip: [
            { field: 'server' },
            { field: 'median', format: ',.1f' },
            { field: 'min', format: ',.1f' },
            { field: 'max', format: ',.1f' },
            { field: 'runs' },
          ],
        },
      },
      {
        mark: { type: 'rule', color: '#222' },
        encoding: {
          y: { field: 'server', type: 'nominal', sort: servers },
          x: { field: 'min', type: 'quantitative' },
          x2: { field: 'max' },
        },
      },
    ],
  };
}

/** 2xx per second, one panel per saturating scenario (each with its own scale): median and min–max. */
export function throughputChart(report: BenchReport): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: '2xx responses per second (median, bar = min–max of the runs; higher is better)',
    data: {
      values: spreads(
        report,
        scenarioOrder,
        windowMetric('load', (w) => w.okPerSec),
      ),
    },
    facet: { field: 'scenario', type: 'nominal', sort: scenarioOrder, title: null },
    columns: 3,
    spec: barsWithSpread(report, '2xx/s'),
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}

/** Server CPU µs per request at the paced rate, /read and /incr: median and min–max. */
export function costChart(report: BenchReport): TopLevelSpec {
  const values = (['read', 'incr'] as const).flatMap((route) =>
    spreads(
      report,
      ['cost'],
      windowMetric(route, (w) => w.serverCpuUsPerRequest),
      { route: `/${route}` },
    ),
  );
  return {
    $schema: SCHEMA,
    title: `Server CPU µs per request at ${report.profile.cost.rate} req/s (all threads; median, bar = min–max; lower is better)`,
    data: { values },
    facet: { field: 'route', type: 'nominal', sort: ['/read', '/incr'], title: null },
    columns: 2,
    spec: barsWithSpread(report, 'CPU µs per request'),
  } as TopLevelSpec;
}

/** RSS bytes per live session (median and min–max), from population or large-population. */
export function populationChart(report: BenchReport): TopLevelSpec {
  const scenario = fillScenario(report.runs);
  const stateless = new Set(report.servers.filter((s) => !s.keepsSessions).map((s) => s.name));
  const values = spreads(report, [scenario], (r: RunResult) =>
    stateless.has(r.server) ? undefined : r.fill?.bytesPerSession,
  );
  return {
    $schema: SCHEMA,
    title: `RSS bytes per live session (${scenario}; median, bar = min–max; lower is better)`,
    data: { values },
    ...barsWithSpread(report, 'bytes per session'),
  } as TopLevelSpec;
}

/** p50, p99 and p99.9 latency per server (medians, rule = min–max of p99), one panel per scenario, log scale. */
export function latencyChart(report: BenchReport): TopLevelSpec {
  const percentiles = [
    ['p50', windowMetric('load', (w) => w.latencyMs.p50)],
    ['p99', windowMetric('load', (w) => w.latencyMs.p99)],
    ['p99.9', windowMetric('load', (w) => w.latencyMs.p999)],
  ] as const;
  const values = percentiles.flatMap(([percentile, metric]) =>
    spreads(report, scenarioOrder, metric, { percentile }).map((d) => ({
      ...d,
      median: Math.max(d.median, 0.001),
      min: Math.max(d.min, 0.001),
      max: Math.max(d.max, 0.001),
    })),
  );
  const servers = report.servers.map((s) => s.name);
  const color = {
    field: 'percentile',
    type: 'nominal',
    sort: ['p50', 'p99', 'p99.9'],
    scale: { range: ['#2ca02c', '#ff7f0e', '#d62728'] },
  } as const;
  return {
    $schema: SCHEMA,
    title: 'Latency percentiles (ms, log scale; point = median, rule = min–max of the runs; lower is better)',
    data: { values },
    facet: { field: 'scenario', type: 'nominal', sort: scenarioOrder, title: null },
    columns: 3,
    spec: {
      width: 220,
      height: Math.max(120, servers.length * 14),
      layer: [
        {
          mark: { type: 'rule', opacity: 0.6 },
          encoding: {
            y: { field: 'server', type: 'nominal', sort: servers, title: null },
            x: { field: 'min', type: 'quantitative', scale: { type: 'log' }, title: 'ms' },
            x2: { field: 'max' },
            color,
          },
        },
        {
          mark: { type: 'point', filled: true, size: 50 },
          encoding: {
            y: { field: 'server', type: 'nominal', sort: servers, title: null },
            x: { field: 'median', type: 'quantitative', scale: { type: 'log' } },
            color,
            shape: { field: 'percentile', type: 'nominal', sort: ['p50', 'p99', 'p99.9'] },
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}

/**
 * The servers' main-thread event-loop delay p99 against the number of live sessions (median, error bar =
 * min–max): solid under the saturating load, dashed at the paced rate where the profile measured one.
 */
export function eventLoopChart(report: BenchReport): TopLevelSpec {
  const population = (scenario: string) => report.runs.find((r) => r.scenario === scenario)?.population;
  const values = (['saturating', 'paced'] as const).flatMap((load) =>
    spreads(
      report,
      ['read-mostly', 'large-population'],
      windowMetric(load === 'saturating' ? 'load' : 'paced', (w) => w.eventLoopDelayP99Ms),
      { load },
    ).map((d) => ({ ...d, population: population(d.scenario) })),
  );
  const rate = report.profile.pacedRate;
  const x = {
    field: 'population',
    type: 'quantitative',
    scale: { type: 'log' },
    title: 'live sessions',
  } as const;
  return {
    $schema: SCHEMA,
    title: 'Main-thread event-loop delay p99 against live sessions (read-mostly load; median, bar = min–max)',
    width: 480,
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'median', type: 'quantitative', title: 'event-loop delay p99 (ms)' },
          color: serverColors(report),
          strokeDash: {
            field: 'load',
            type: 'nominal',
            title: rate > 0 ? `load (paced: ${rate} req/s)` : 'load',
            scale: {
              domain: ['saturating', 'paced'],
              range: [
                [1, 0],
                [6, 4],
              ],
            },
            legend: {
              symbolType: 'stroke',
              symbolStrokeColor: '#555',
              symbolStrokeWidth: 2,
              titleLimit: 240,
            },
          },
          detail: { field: 'load', type: 'nominal' },
        },
      },
      {
        mark: { type: 'rule' },
        encoding: {
          x,
          y: { field: 'min', type: 'quantitative' },
          y2: { field: 'max' },
          color: serverColors(report),
        },
      },
      {
        // The target for the sharded provider.
        data: { values: [{ target: 5 }] },
        mark: { type: 'rule', strokeDash: [2, 2], color: '#555' },
        encoding: { y: { field: 'target', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** Every chart of the report, by file name. */
export async function renderCharts(report: BenchReport): Promise<Map<string, string>> {
  return new Map([
    ['cost.svg', await renderSvg(costChart(report))],
    ['population.svg', await renderSvg(populationChart(report))],
    ['throughput.svg', await renderSvg(throughputChart(report))],
    ['latency.svg', await renderSvg(latencyChart(report))],
    ['event-loop.svg', await renderSvg(eventLoopChart(report))],
  ]);
}
