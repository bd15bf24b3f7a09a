/** The bench's command line: which profile, servers, scenarios and repeats, and where the report goes. */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SCENARIOS, PROFILES, type Profile, SCENARIO_NAMES, type ScenarioName } from './scenarios.js';

/** What `npm run bench -- …` asked for. */
export interface BenchSettings {
  readonly profile: Profile;
  readonly servers: string[];
  readonly scenarios: ScenarioName[];
  readonly pin: boolean;
  readonly outDir: string;
  readonly cpuProfileDir?: string;
  /** Profiles of the measured windows only, main thread (see servers/window-profile.ts). */
  readonly windowProfileDir?: string;
}

// Seconds of the paced window when --paced turns it on for a profile that has none.
const PACED_DEFAULT_S = 2;

export const USAGE = `usage: node dist/bench/run.js [options]
  --quick              the quick profile (3 repeats, short windows, 200,000-session population)
  --servers=a,b        only these servers
  --scenarios=x,y      only these scenarios (cost and population run alone too)
  --repeat=N           runs of every (scenario, server) (full 5, quick 3)
  --duration=S         measured seconds of each saturating window (full 4, quick 0.5)
  --warmup=S           warm-up seconds of each saturating window (full 1, quick 0.2)
  --population=N       live sessions of population and large-population (full 1,000,000, quick 200,000)
  --rate=R             req/s of the cost scenario (default 6,000)
  --paced=R            req/s of the paced window of read-mostly and large-population (full 1,000; 0 = none)
  --pin                client on one core, servers on the others (taskset)
  --out=DIR            write the report there instead of bench/results/
  --cpu-prof=DIR       a V8 CPU profile of every server process, written to DIR
  --cpu-prof-windows=DIR  a profile of each measured window only (main thread), written to DIR`;

function pick<T extends string>(
  what: string,
  value: string | undefined,
  all: readonly T[],
  fallback: readonly T[],
): T[] {
  if (value === undefined) return [...fallback];
  const wanted = value.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !(all as readonly string[]).includes(w));
  if (unknown.length > 0)
    throw new Error(`unknown ${what}: ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return all.filter((name) => wanted.includes(name));
}

function number(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${value}`);
  return n;
}

/** Parses the arguments; `knownServers` are the registry's names, `root` the repository. */
export function parseSettings(args: string[], knownServers: readonly string[], root: string): BenchSettings {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      servers: { type: 'string' },
      scenarios: { type: 'string' },
      repeat: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      population: { type: 'string' },
      rate: { type: 'string' },
      paced: { type: 'string' },
      pin: { type: 'boolean', default: false },
      out: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'cpu-prof-windows': { type: 'string' },
    },
  });
  const base: Profile = values.quick ? PROFILES.quick : PROFILES.full;
  const changesSizes = ['repeat', 'duration', 'warmup', 'population', 'rate', 'paced'].some(
    (option) => values[option as keyof typeof values] !== undefined,
  );
  const pacedRate = Math.round(number('paced', values.paced, base.pacedRate));
  const profile: Profile = {
    ...base,
    name: changesSizes ? 'custom' : base.name,
    repeat: Math.round(number('repeat', values.repeat, base.repeat, 1)),
    durationS: number('duration', values.duration, base.durationS),
    warmupS: number('warmup', values.warmup, base.warmupS),
    population: Math.round(number('population', values.population, base.population, 1)),
    pacedRate,
    pacedS: pacedRate > 0 ? base.pacedS || PACED_DEFAULT_S : 0,
    cost: { ...base.cost, rate: Math.round(number('rate', values.rate, base.cost.rate, 1)) },
  };
  return {
    profile,
    servers: pick('server', values.servers, knownServers, knownServers),
    scenarios: pick('scenario', values.scenarios, SCENARIO_NAMES, DEFAULT_SCENARIOS),
    pin: values.pin === true,
    outDir: resolve(values.out ?? join(root, 'bench', 'results')),
    ...(values['cpu-prof'] === undefined ? {} : { cpuProfileDir: resolve(values['cpu-prof']) }),
    ...(values['cpu-prof-windows'] === undefined
      ? {}
      : { windowProfileDir: resolve(values['cpu-prof-windows']) }),
  };
}
