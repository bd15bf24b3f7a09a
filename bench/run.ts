/**
 * The benchmark suite: `npm run bench` (full) or `npm run bench:quick`; `node dist/bench/run.js --help`
 * lists the options (servers, scenarios, repeats, sizes, --pin).
 *
 * Every (scenario, server) runs `repeat` times, interleaved, each run in a fresh server process; the results
 * go to bench/results/ (latest.json with every run, latest.md with medians and min–max, SVG charts) and a
 * summary is printed at the end. Until then, partial.json and partial.md hold the runs done so far, rewritten
 * after each run: a run stopped for time (a full one takes hours) still leaves its figures.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { type BenchSettings, parseSettings, USAGE } from './harness/cli.js';
import { measure, type Phase } from './harness/measure.js';
import { type Placement, pinClient, UNPINNED } from './harness/pin.js';
import { estimateSeconds, formatDuration, interleave } from './harness/plan.js';
import type { RunResult } from './harness/result.js';
import { scenarios } from './harness/scenarios.js';
import { childFlags } from './harness/server-process.js';
import { unavailable } from './harness/services.js';
import { renderCharts } from './report/charts.js';
import { describeMachine, describeVersions, projectRoot } from './report/machine.js';
import { renderMarkdown } from './report/markdown.js';
import { renderSummary } from './report/summary.js';
import type { BenchReport } from './report/types.js';
import {
  describeServer,
  reportedShardedServer,
  SERVER_NAMES,
  SERVERS,
  type ServerEntry,
} from './servers/registry.js';
import { WINDOW_PROFILE_ENV } from './servers/window-profile.js';

function runLine(run: RunResult): string {
  if (run.failure !== undefined) return `FAILED ${run.failure.split('\n')[0]}`;
  const load = run.windows.load;
  if (load !== undefined) return `${Math.round(load.okPerSec).toLocaleString('en-US')} 2xx/s`;
  const read = run.windows.read?.serverCpuUsPerRequest;
  const incr = run.windows.incr?.serverCpuUsPerRequest;
  if (read !== undefined || incr !== undefined)
    return `${read?.toFixed(1) ?? '–'} / ${incr?.toFixed(1) ?? '–'} µs per /read, /incr`;
  if (run.fill !== undefined) return `${Math.round(run.fill.bytesPerSession)} B per session`;
  return 'done';
}

/**
 * Runs the plan; after each run, `onRun` gets the report of the runs done so far (with `plannedRuns`), so a
 * run stopped for time still leaves one.
 */
async function bench(
  settings: BenchSettings,
  onRun: (partial: BenchReport) => Promise<void>,
): Promise<BenchReport> {
  const { profile } = settings;
  const entries = (SERVERS as readonly ServerEntry[]).filter((e) => settings.servers.includes(e.name));
  const skipped = await unavailable(entries);
  for (const s of skipped) console.error(`skipping ${s.server}: ${s.reason}`);
  const servers = entries.filter((e) => !skipped.some((s) => s.server === e.name));
  const plan = interleave(
    scenarios(profile).filter((s) => settings.scenarios.includes(s.name)),
    servers.map((s) => s.name),
    profile.repeat,
  );
  if (settings.cpuProfileDir !== undefined)
    childFlags.push('--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`);
  if (settings.windowProfileDir !== undefined) {
    await mkdir(settings.windowProfileDir, { recursive: true });
    process.env[WINDOW_PROFILE_ENV] = settings.windowProfileDir;
  }
  // Before pinning: a pinned process sees one CPU.
  const machine = describeMachine();
  const placement: Placement = settings.pin ? pinClient() : UNPINNED;
  if (placement.note) console.error(placement.note);

  const estimated = plan.map((run) => estimateSeconds(run.scenario));
  const estimatedTotal = estimated.reduce((a, b) => a + b, 0);
  console.error(
    `shard-session bench, profile ${profile.name}: ${settings.scenarios.length} scenarios × ${servers.length} servers × ${profile.repeat} runs = ${plan.length} runs, ` +
      `${placement.mode}; estimated ${formatDuration(estimatedTotal)}`,
  );
  const interactive = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} | {run} | {phase} | {duration_formatted} elapsed, ETA {left}',
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const startedAt = new Date();
  if (interactive) bar.start(plan.length, 0, { run: '', phase: '', left: formatDuration(estimatedTotal) });

  const runs: RunResult[] = [];
  const versions = describeVersions();
  const reportOf = (): BenchReport => ({
    machine,
    versions,
    profile,
    placement,
    reportedSharded: reportedShardedServer(),
    servers: servers.map(describeServer),
    skipped,
    startedAt: startedAt.toISOString(),
    elapsedS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    runs,
  });
  let estimatedDone = 0;
  for (const [index, planned] of plan.entries()) {
    const name = `${planned.scenario.name} × ${planned.server} #${planned.repeat}`;
    // The estimate, scaled by how fast the runs so far went compared with their estimate.
    const elapsed = (Date.now() - startedAt.getTime()) / 1000;
    const pace = estimatedDone > 0 ? elapsed / estimatedDone : 1;
    const left = formatDuration((estimatedTotal - estimatedDone) * pace);
    const onPhase = (phase: Phase) => {
      if (interactive) bar.update({ run: name, phase, left });
    };
    const run = await measure(planned.server, planned.scenario, {
      repeat: planned.repeat,
      ...(placement.serverCpus === undefined ? {} : { serverCpus: placement.serverCpus }),
      onPhase,
    });
    runs.push(run);
    estimatedDone += estimated[index] ?? 0;
    if (interactive) bar.increment(1, { run: name, phase: 'done', left });
    else console.error(`[${index + 1}/${plan.length}] ${name}: ${runLine(run)} (ETA ${left})`);
    if (index + 1 < plan.length) await onRun({ ...reportOf(), plannedRuns: plan.length });
  }
  if (interactive) bar.stop();
  return reportOf();
}

/** Writes the file under another name, then renames it: a reader (or a stop) never sees half of it. */
async function writeWhole(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log(USAGE);
    return;
  }
  let settings: BenchSettings;
  try {
    settings = parseSettings(args, SERVER_NAMES, projectRoot());
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  await mkdir(settings.outDir, { recursive: true });
  const partialJson = join(settings.outDir, 'partial.json');
  const partialMd = join(settings.outDir, 'partial.md');
  const report = await bench(settings, async (partial) => {
    // A partial report that cannot be written (a full disk, a report of odd runs) must not end a run of hours.
    try {
      await writeWhole(partialMd, renderMarkdown(partial, []));
      await writeWhole(partialJson, `${JSON.stringify(partial, null, 2)}\n`);
    } catch (error) {
      console.error(`could not write the partial report: ${error instanceof Error ? error.message : error}`);
    }
  });
  await rm(partialJson, { force: true });
  await rm(partialMd, { force: true });
  const charts = await renderCharts(report);
  for (const [file, svg] of charts) await writeFile(join(settings.outDir, file), svg);
  await writeFile(join(settings.outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(settings.outDir, 'latest.md'), renderMarkdown(report, [...charts.keys()]));

  console.log(renderSummary(report));
  console.log(`\n${report.elapsedS}s. Report: ${join(settings.outDir, 'latest.md')}`);
  if (report.runs.some((r) => r.failure !== undefined)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
