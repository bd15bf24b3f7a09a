/**
 * The bench harness's plumbing, not its timings: real servers in real child processes driven by real HTTP
 * load for a moment, and the report built from what they answered. Runs the compiled child (dist/), which
 * `npm test` builds first.
 */
import { spawnSync } from 'node:child_process';
import { Client } from 'undici';
import { describe, expect, it } from 'vitest';
import { measure } from '../bench/harness/measure.js';
import { parseCpuList } from '../bench/harness/pin.js';
import { interleave } from '../bench/harness/plan.js';
import type { RunResult } from '../bench/harness/result.js';
import { type Profile, type ScenarioName, scenarios } from '../bench/harness/scenarios.js';
import { ServerProcess } from '../bench/harness/server-process.js';
import { reachable, unavailable } from '../bench/harness/services.js';
import { pairedRatio, spreadOf } from '../bench/report/aggregate.js';
import { renderCharts } from '../bench/report/charts.js';
import { renderMarkdown } from '../bench/report/markdown.js';
import type { BenchReport } from '../bench/report/types.js';
import { routeOf, sampleIndices } from '../bench/servers/protocol.js';
import { describeServer, SERVERS, serverEntry } from '../bench/servers/registry.js';

const tiny: Profile = {
  name: 'custom',
  repeat: 1,
  warmupS: 0.1,
  durationS: 0.3,
  population: 2_000,
  sessions: 1_000,
  connections: 4,
  pacedRate: 0,
  pacedS: 0,
  cost: { rate: 1_000, connections: 4, firstWarmupS: 0.1, warmupS: 0.1, durationS: 0.3 },
};

function scenario(name: ScenarioName, profile: Profile = tiny) {
  const found = scenarios(profile).find((s) => s.name === name);
  if (found === undefined) throw new Error(`no scenario ${name}`);
  return found;
}

/** A run of `server` with these window figures, for the report's arithmetic. */
function fakeRun(server: string, repeat: number, okPerSec: number): RunResult {
  const window = {
    responses: okPerSec,
    okPerSec,
    latencyMs: { p50: 1, p99: 2, p999: 3, max: 4 },
    errors: 0,
    clientCpuPercent: 50,
    serverCpuPercent: 90,
    serverCpuUsPerRequest: 1e6 / okPerSec,
    rssBytes: 2 ** 26,
    eventLoopDelayP99Ms: 1,
    eventLoopDelayMaxMs: 2,
    durationS: 1,
  };
  return {
    scenario: 'read-mostly',
    server,
    repeat,
    loadAverage: 0.5,
    connections: 4,
    windows: { load: window },
  };
}

describe('bench plumbing', () => {
  it('names routes and spreads samples evenly', () => {
    expect(routeOf('/incr')).toBe('incr');
    expect(routeOf('/read?x=1')).toBe('read');
    expect(routeOf('/nope')).toBeNull();
    expect([...sampleIndices(10, 5)]).toEqual([0, 2, 4, 6, 8]);
    expect(sampleIndices(3, 10).size).toBe(3);
    expect(parseCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
  });

  it('gives every read-mostly connection its own sessions with one write in ten', () => {
    const cookies = Array.from({ length: 40 }, (_, i) => `sid=${i}`);
    const [window] = scenario('read-mostly').windows(cookies);
    const first = window?.plan.requestsFor(0) ?? [];
    const second = window?.plan.requestsFor(1) ?? [];
    expect(first.filter((r) => r.path === '/write').length * 10).toBe(first.length);
    const mine = new Set(first.map((r) => r.cookie));
    expect(second.some((r) => mine.has(r.cookie))).toBe(false);
  });

  it('interleaves repeats: one pass over every server per repeat, each pass starting one server later', () => {
    const plan = interleave([scenario('cost')], ['a', 'b', 'c'], 3);
    expect(plan.map((r) => `${r.server}${r.repeat}`)).toEqual([
      'a1',
      'b1',
      'c1',
      'b2',
      'c2',
      'a2',
      'c3',
      'a3',
      'b3',
    ]);
  });

  it('reports medians with min–max, and ratios paired repeat by repeat', () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spreadOf([4, 1, undefined, 2, 3])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spreadOf([])).toBeUndefined();
    // Repeat 2 of both ran slower (a busy machine): the paired ratio stays 2, the ratio of medians would not.
    const runs = [fakeRun('map', 1, 100), fakeRun('map', 2, 50), fakeRun('x', 1, 200), fakeRun('x', 2, 100)];
    const ratio = pairedRatio(runs, 'read-mostly', 'x', 'map', (r) => r.windows.load?.okPerSec);
    expect(ratio).toEqual({ median: 2, min: 2, max: 2, n: 2 });
  });

  it('knows every registered server, and skips one whose service does not answer', async () => {
    expect(serverEntry('shard-fastify').family).toBe('shard');
    expect(() => serverEntry('nope')).toThrow(/unknown bench server/);
    expect(new Set(SERVERS.map((s) => s.name)).size).toBe(SERVERS.length);
    expect(await reachable('redis://127.0.0.1:1')).toBe(false);
    const skipped = await unavailable([
      {
        ...serverEntry('map'),
        name: 'needs-nothing-there',
        service: { env: 'BENCH_TEST_UNSET_URL', defaultUrl: 'postgres://127.0.0.1:1/x' },
      },
      serverEntry('map'),
    ]);
    expect(skipped).toEqual([
      {
        server: 'needs-nothing-there',
        reason: 'nothing answers at BENCH_TEST_UNSET_URL=postgres://127.0.0.1:1/x',
      },
    ]);
  });

  const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
  it.skipIf(!hasTaskset)('starts a server pinned to the CPUs it is given (--pin), every thread', async () => {
    const server = await ServerProcess.start('shard-sharded-1', '0');
    try {
      // -a: every thread, the shard's worker and libuv's pool included.
      const answer = spawnSync('taskset', ['-a', '-pc', String(server.pid)], { encoding: 'utf8' });
      const lists = answer.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(':').at(-1)?.trim());
      expect(lists.length).toBeGreaterThan(2);
      expect(new Set(lists)).toEqual(new Set(['0']));
    } finally {
      await server.close();
    }
  });

  it('fills a store, measures bytes per session and reads the sessions back through signed cookies', async () => {
    for (const server of ['map', 'shard-sharded-1']) {
      const run = await measure(server, scenario('population'));
      expect(run.failure).toBeUndefined();
      expect(run.windows).toEqual({});
      expect(run.fill?.sessions).toBe(2_000);
      expect(run.fill?.seconds).toBeGreaterThan(0);
      // 2,000 sessions of two small keys: some bytes each, not megabytes (a broken delta would show here).
      expect(run.fill?.bytesPerSession).toBeLessThan(50_000);
    }
  });

  it('drives express-session with ShardSessionStore as it drives express-session with its MemoryStore', async () => {
    for (const server of ['express-session', 'express-session-shard']) {
      const run = await measure(server, scenario('read-modify-write'));
      expect(run.failure).toBeUndefined();
      expect(run.windows.load?.okPerSec).toBeGreaterThan(0);
      expect(run.windows.load?.errors).toBe(0);
    }
  });

  it('counts the classic design’s lost updates with its async provider and none with its sync one', async () => {
    const hot = scenario('hot-session');
    const [classic, classicSync] = [await measure('classic', hot), await measure('classic-sync', hot)];
    for (const run of [classic, classicSync]) {
      expect(run.failure).toBeUndefined();
      expect(run.windows.load?.okPerSec).toBeGreaterThan(0);
      expect(run.windows.load?.errors).toBe(0);
    }
    // 4 connections each read, then write, the one counter with a turn of the event loop in between.
    expect(classic.lostUpdates).toBeGreaterThan(0);
    expect(classicSync.lostUpdates).toBe(0);

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
      profile: tiny,
      placement: { mode: 'unpinned' },
      reportedSharded: 'shard-sharded-1',
      servers: [describeServer(serverEntry('classic')), describeServer(serverEntry('classic-sync'))],
      skipped: [],
      startedAt: new Date(0).toISOString(),
      elapsedS: 1,
      runs: [classic, classicSync],
    };
    const charts = await renderCharts(report);
    for (const svg of charts.values()) expect(svg.startsWith('<svg')).toBe(true);
    const markdown = renderMarkdown(report, [...charts.keys()]);
    expect(markdown).toContain('## hot-session');
    // server | 2xx/s | × map | × express-session | p50 | p99 | p99.9 | errors | lost updates |
    const row = (server: string, lost: number) =>
      new RegExp(
        `\\| ${server} \\| [\\d,]+ \\| – \\| – \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\| 0 \\| ${lost.toLocaleString('en-US')} \\|`,
      );
    expect(markdown).toMatch(row('classic', classic.lostUpdates ?? -1));
    expect(markdown).toMatch(row('classic-sync', 0));
    expect(markdown).toContain('![throughput.svg](throughput.svg)');
  });

  it('measures CPU per request at a paced rate: the rate is kept, not exceeded in bursts', async () => {
    const run = await measure('map', scenario('cost'));
    expect(run.failure).toBeUndefined();
    for (const route of ['read', 'incr'] as const) {
      const window = run.windows[route];
      expect(window?.rate).toBe(1_000);
      // Requests due in a 0.3 s window at 1,000/s: 300, all answered (autocannon's per-second budget sent 1,000).
      expect(window?.responses).toBeGreaterThanOrEqual(295);
      expect(window?.responses).toBeLessThanOrEqual(301);
      expect(window?.errors).toBe(0);
      expect(window?.serverCpuUsPerRequest).toBeGreaterThan(0);
    }
  });

  it('batches a shard-session server’s operations under concurrent HTTP load', async () => {
    const run = await measure('shard-sharded-1', scenario('read-modify-write', { ...tiny, connections: 16 }));
    expect(run.failure).toBeUndefined();
    expect(run.windows.load?.errors).toBe(0);
    expect(run.windows.load?.okPerSec).toBeGreaterThan(0);
    expect(run.windows.load?.opsPerFrame).toBeGreaterThan(1);
  });

  it('sends every request read in one poll phase to the shard as ONE frame (the setImmediate flush)', async () => {
    // A flush on queueMicrotask would send the first request's read alone, then the rest once it is answered:
    // two frames. The server's loop is held busy while the requests arrive, so all are read in one phase.
    const burst = 12;
    const server = await ServerProcess.start('shard-sharded-1');
    const clients = Array.from({ length: burst }, () => new Client(`http://127.0.0.1:${server.port}`));
    try {
      const cookies = await server.prefill(2 * burst, 2 * burst);
      const read = (client: Client, cookie: string) =>
        client.request({ method: 'GET', path: '/read', headers: { cookie } }).then(async (r) => {
          expect(await r.body.text()).toBe('u:0');
        });
      // Connect every client first (and warm the code), then count from zero. The counted burst reads other
      // sessions: those read once are in the main thread's read cache, and their reads never reach the shard.
      await Promise.all(clients.map((client, i) => read(client, cookies[i] as string)));
      await server.reset();
      const held = server.hold(300);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await Promise.all([held, ...clients.map((client, i) => read(client, cookies[burst + i] as string))]);
      expect((await server.stats()).opsPerFrame).toBe(burst);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await server.close();
    }
  });
});
