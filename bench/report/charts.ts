import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { SCENARIO_NAMES } from '../harness/scenarios.js';
import { SERVER_NAMES } from '../servers/protocol.js';
import type { BenchResult } from './types.js';

/** Renders a Vega-Lite spec to an SVG string, headless (no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const serverOrder = [...SERVER_NAMES];
const scenarioOrder = [...SCENARIO_NAMES];
// Peers in greys and warm colours, shard-session in blues, so "ours" reads as one family.
const serverColors = {
  field: 'server',
  type: 'nominal',
  sort: serverOrder,
  scale: {
    domain: serverOrder,
    range: [
      '#bdbdbd',
      '#7f7f7f',
      '#d62728',
      '#ff7f0e',
      '#bcbd22',
      '#9ecae1',
      '#6baed6',
      '#3182bd',
      '#08519c',
    ],
  },
} as const;

function ok(results: readonly BenchResult[]): BenchResult[] {
  return results.filter((r) => r.failure === undefined);
}

/** Requests per second, one panel per scenario (each with its own scale), one bar per server. */
export function throughputChart(results: readonly BenchResult[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Throughput (requests per second, higher is better)',
    data: {
      values: ok(results).map((r) => ({ scenario: r.scenario, server: r.server, reqPerSec: r.reqPerSec })),
    },
    facet: { field: 'scenario', type: 'nominal', sort: scenarioOrder, title: null },
    columns: 3,
    spec: {
      width: 220,
      height: 180,
      mark: 'bar',
      encoding: {
        y: { field: 'server', type: 'nominal', sort: serverOrder, title: null },
        x: { field: 'reqPerSec', type: 'quantitative', title: 'req/s' },
        color: { ...serverColors, legend: null },
        tooltip: [{ field: 'server' }, { field: 'reqPerSec', format: ',.0f' }],
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
}

/** p50, p99 and p99.9 latency per server, one panel per scenario, on a log scale. */
export function latencyChart(results: readonly BenchResult[]): TopLevelSpec {
  const values = ok(results).flatMap((r) =>
    (
      [
        ['p50', r.latencyMs.p50],
        ['p99', r.latencyMs.p99],
        ['p99.9', r.latencyMs.p999],
      ] as const
    ).map(([percentile, ms]) => ({
      scenario: r.scenario,
      server: r.server,
      percentile,
      ms: Math.max(ms, 0.001),
    })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Latency percentiles (ms, log scale, lower is better)',
    data: { values },
    facet: { field: 'scenario', type: 'nominal', sort: scenarioOrder, title: null },
    columns: 3,
    spec: {
      width: 220,
      height: 180,
      mark: { type: 'point', filled: true, size: 60 },
      encoding: {
        y: { field: 'server', type: 'nominal', sort: serverOrder, title: null },
        x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'ms' },
        color: {
          field: 'percentile',
          type: 'nominal',
          sort: ['p50', 'p99', 'p99.9'],
          scale: { range: ['#2ca02c', '#ff7f0e', '#d62728'] },
        },
        shape: { field: 'percentile', type: 'nominal', sort: ['p50', 'p99', 'p99.9'] },
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
}

/**
 * The servers' main-thread event-loop delay p99 against the number of live sessions: solid under the
 * saturating load, dashed at the paced rate where the profile measured one.
 */
export function eventLoopChart(results: readonly BenchResult[]): TopLevelSpec {
  const withPopulation = ok(results).filter((r) => r.population !== undefined);
  const values = [
    ...withPopulation
      .filter((r) => r.eventLoopDelayP99Ms !== undefined)
      .map((r) => ({
        server: r.server,
        population: r.population,
        delayMs: r.eventLoopDelayP99Ms,
        load: 'saturating',
      })),
    ...withPopulation
      .filter((r) => r.paced !== undefined)
      .map((r) => ({
        server: r.server,
        population: r.population,
        delayMs: r.paced?.eventLoopDelayP99Ms,
        load: 'paced',
      })),
  ];
  const rate = withPopulation.find((r) => r.paced !== undefined)?.paced?.rate;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Main-thread event-loop delay p99 against live sessions (read-mostly load)',
    width: 480,
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'population', type: 'quantitative', scale: { type: 'log' }, title: 'live sessions' },
          y: { field: 'delayMs', type: 'quantitative', title: 'event-loop delay p99 (ms)' },
          color: serverColors,
          strokeDash: {
            field: 'load',
            type: 'nominal',
            title: rate === undefined ? 'load' : `load (paced: ${rate} req/s)`,
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
        // The target for the sharded provider.
        data: { values: [{ target: 5 }] },
        mark: { type: 'rule', strokeDash: [2, 2], color: '#555' },
        encoding: { y: { field: 'target', type: 'quantitative' } },
      },
    ],
  };
}

/** Every chart of the report, by file name. */
export async function renderCharts(results: readonly BenchResult[]): Promise<Map<string, string>> {
  return new Map([
    ['throughput.svg', await renderSvg(throughputChart(results))],
    ['latency.svg', await renderSvg(latencyChart(results))],
    ['event-loop.svg', await renderSvg(eventLoopChart(results))],
  ]);
}
