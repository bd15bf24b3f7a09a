/**
 * The bench harness's plumbing, not its timings: real servers in real child processes driven by autocannon
 * for a moment, and the report built from what they answered. Runs the compiled child (dist/), which
 * `npm test` builds first.
 */
import { describe, expect, it } from 'vitest';
import { measure } from '../bench/harness/measure.js';
import { type Profile, scenarios } from '../bench/harness/scenarios.js';
import { ServerProcess } from '../bench/harness/server-process.js';
import { renderCharts } from '../bench/report/charts.js';
import { renderMarkdown } from '../bench/report/markdown.js';
import type { BenchReport, BenchResult } from '../bench/report/types.js';
import { routeOf, sampleIndices } from '../bench/servers/protocol.js';

const tiny: Profile = {
  name: 'custom',
  warmupS: 0.2,
  durationS: 0.6,
  population: 1_000,
  sessions: 1_000,
  connections: 4,
  pacedRate: 0,
  pacedS: 0,
};

function scenario(name: string) {
  const found = scenarios(tiny).find((s) => s.name === name);
  if (found === undefined) throw new Error(`no scenario ${name}`);
  return found;
}

function expectWellFormed(result: BenchResult): void {
  expect(result.failure).toBeUndefined();
  expect(result.requests).toBeGreaterThan(0);
  expect(result.reqPerSec).toBeGreaterThan(0);
  expect(result.errors).toBe(0);
  const { p50, p99, p999, max } = result.latencyMs;
  expect(p50).toBeGreaterThan(0);
  expect(p50).toBeLessThanOrEqual(p99);
  expect(p99).toBeLessThanOrEqual(p999);
  expect(p999).toBeLessThanOrEqual(max);
  expect(result.rssBytes).toBeGreaterThan(0);
  expect(result.eventLoopDelayP99Ms).toBeGreaterThanOrEqual(0);
  expect(result.clientCpuPercent).toBeGreaterThan(0);
}

describe('bench plumbing', () => {
  it('names routes and spreads samples evenly', () => {
    expect(routeOf('/incr')).toBe('incr');
    expect(routeOf('/read?x=1')).toBe('read');
    expect(routeOf('/nope')).toBeNull();
    expect([...sampleIndices(10, 5)]).toEqual([0, 2, 4, 6, 8]);
    expect(sampleIndices(3, 10).size).toBe(3);
  });

  it('gives every read-mostly connection its own sessions with one write in ten', () => {
    const cookies = Array.from({ length: 40 }, (_, i) => `sid=${i}`);
    const plan = scenario('read-mostly').plan(cookies);
    const first = plan.requestsFor(0);
    const second = plan.requestsFor(1);
    expect(first.filter((r) => r.path === '/write').length * 10).toBe(first.length);
    const mine = new Set(first.map((r) => r.cookie));
    expect(second.some((r) => mine.has(r.cookie))).toBe(false);
  });

  it('prefills a server through its own store and answers usable cookies', async () => {
    const server = await ServerProcess.start('map');
    try {
      const cookies = await server.prefill(1_000, 10);
      expect(cookies).toHaveLength(10);
      expect(new Set(cookies).size).toBe(10);
      const response = await fetch(`http://127.0.0.1:${server.port}/read`, {
        headers: { cookie: cookies[3] as string },
      });
      expect(await response.text()).toBe('u:0');
      expect(response.headers.get('set-cookie')).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('measures hot-session on two servers and counts lost updates, then reports them', async () => {
    const hot = scenario('hot-session');
    const map = await measure('map', hot, tiny);
    const classic = await measure('classic', hot, tiny);
    for (const result of [map, classic]) expectWellFormed(result);
    // One synchronous increment per request: map cannot lose one.
    expect(map.lostUpdates).toBe(0);
    expect(Number.isInteger(classic.lostUpdates)).toBe(true);
    expect(classic.lostUpdates).toBeGreaterThanOrEqual(0);

    const report: BenchReport = {
      machine: {
        cpus: 2,
        cpuModel: 'test',
        totalMemoryBytes: 2 ** 30,
        platform: 'linux',
        release: '0',
        loadAverage: [0],
      },
      versions: { node: process.versions.node },
      profile: 'custom',
      startedAt: new Date(0).toISOString(),
      elapsedS: 1,
      results: [map, classic],
    };
    const charts = await renderCharts(report.results);
    for (const svg of charts.values()) expect(svg.startsWith('<svg')).toBe(true);
    const markdown = renderMarkdown(report, [...charts.keys()]);
    expect(markdown).toContain('## hot-session');
    expect(markdown).toMatch(/\| classic \| [\d,]+ \| [\d.]+× \| – \|/);
    expect(markdown).toContain('![throughput.svg](throughput.svg)');
  });

  it('adds a paced measurement where the profile asks for one', async () => {
    const result = await measure('map', scenario('read-mostly'), { ...tiny, pacedRate: 200, pacedS: 0.5 });
    expectWellFormed(result);
    expect(result.population).toBe(1_000);
    expect(result.paced?.rate).toBe(200);
    expect(result.paced?.reqPerSec).toBeGreaterThan(0);
    expect(result.paced?.eventLoopDelayP99Ms).toBeGreaterThanOrEqual(0);
  });

  it('turns a run that breaks into a failed result instead of an exception', async () => {
    const broken = {
      ...scenario('read-mostly'),
      plan: () => {
        throw new Error('broken plan');
      },
    };
    const result = await measure('map', broken, tiny);
    expect(result.failure).toBe('broken plan');
    expect(result.requests).toBe(0);
  });
});
