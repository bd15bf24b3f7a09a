/**
 * The benchmark suite: `npm run bench` (full) or `npm run bench:quick`.
 *
 * Every scenario runs against every server, each server in a fresh child process, one at a time; the
 * results go to bench/results/ (latest.json, latest.md, SVG charts) and a summary is printed at the end.
 * Options: --quick, --servers=a,b, --scenarios=x,y, --duration=S, --warmup=S, --population=N, --out=DIR,
 * --paced=RATE (req/s of the paced event-loop window; 0 = none), --cpu-prof=DIR (a V8 CPU profile of every
 * server process, written to DIR when it exits).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { measure, type Phase } from './harness/measure.js';
import { PROFILES, type Profile, SCENARIO_NAMES, type ScenarioName, scenarios } from './harness/scenarios.js';
import { childFlags } from './harness/server-process.js';
import { renderCharts } from './report/charts.js';
import { describeMachine, describeVersions, projectRoot } from './report/machine.js';
import { renderMarkdown } from './report/markdown.js';
import { renderSummary } from './report/summary.js';
import type { BenchReport, BenchResult } from './report/types.js';
import { SERVER_NAMES, type ServerName } from './servers/protocol.js';

// Seconds of the paced window when --paced turns it on for a profile that has none.
const PACED_DEFAULT_S = 2;

function pick<T extends string>(what: string, value: string | undefined, all: readonly T[]): T[] {
  if (value === undefined) return [...all];
  const wanted = value.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !(all as readonly string[]).includes(w));
  if (unknown.length > 0)
    throw new Error(`unknown ${what}: ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return all.filter((name) => wanted.includes(name));
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      servers: { type: 'string' },
      scenarios: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      population: { type: 'string' },
      out: { type: 'string' },
      'cpu-prof': { type: 'string' },
      paced: { type: 'string' },
    },
  });
  const base: Profile = values.quick ? PROFILES.quick : PROFILES.full;
  const custom =
    values.duration !== undefined ||
    values.warmup !== undefined ||
    values.population !== undefined ||
    values.paced !== undefined;
  const pacedRate = Math.round(positive('paced', values.paced, base.pacedRate));
  const profile: Profile = {
    ...base,
    name: custom ? 'custom' : base.name,
    durationS: positive('duration', values.duration, base.durationS),
    warmupS: positive('warmup', values.warmup, base.warmupS),
    population: Math.round(positive('population', values.population, base.population)),
    pacedRate,
    pacedS: pacedRate > 0 ? base.pacedS || PACED_DEFAULT_S : 0,
  };
  const servers = pick<ServerName>('server', values.servers, SERVER_NAMES);
  const scenarioNames = pick<ScenarioName>('scenario', values.scenarios, SCENARIO_NAMES);
  const plan = scenarios(profile).filter((s) => scenarioNames.includes(s.name));
  const outDir = resolve(values.out ?? join(projectRoot(), 'bench', 'results'));
  const profileDir = values['cpu-prof'];
  if (profileDir !== undefined) childFlags.push('--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`);

  const machine = describeMachine();
  const startedAt = new Date();
  const total = plan.length * servers.length;
  const interactive = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} | {run} | {phase} | {duration_formatted} elapsed, ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  console.error(
    `shard-session bench, profile ${profile.name}: ${plan.length} scenarios × ${servers.length} servers, ` +
      `${profile.warmupS}s warm-up + ${profile.durationS}s each, population ${profile.population.toLocaleString('en-US')}`,
  );
  if (interactive) bar.start(total, 0, { run: '', phase: '' });

  const results: BenchResult[] = [];
  // Scenario by scenario, so the servers compared in one table are measured close together in time.
  for (const scenario of plan) {
    for (const server of servers) {
      const run = `${scenario.name} × ${server}`;
      const onPhase = (phase: Phase) => {
        if (interactive) bar.update({ run, phase });
      };
      const result = await measure(server, scenario, profile, onPhase);
      results.push(result);
      if (interactive) bar.increment(1, { run, phase: 'done' });
      else
        console.error(
          `[${results.length}/${total}] ${run}: ${
            result.failure
              ? `FAILED ${result.failure.split('\n')[0]}`
              : `${Math.round(result.reqPerSec)} req/s`
          }`,
        );
    }
  }
  if (interactive) bar.stop();

  const report: BenchReport = {
    machine,
    versions: describeVersions(),
    profile: profile.name,
    startedAt: startedAt.toISOString(),
    elapsedS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    results,
  };
  await mkdir(outDir, { recursive: true });
  const charts = await renderCharts(results);
  for (const [file, svg] of charts) await writeFile(join(outDir, file), svg);
  await writeFile(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(outDir, 'latest.md'), renderMarkdown(report, [...charts.keys()]));

  console.log(renderSummary(results, servers));
  console.log(`\n${report.elapsedS}s. Report: ${join(outDir, 'latest.md')}`);
  if (results.some((r) => r.failure !== undefined)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
