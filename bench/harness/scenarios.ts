import type { LoadPlan, PlannedRequest } from './load.js';

/** The names of the scenarios, as the issue and the report spell them, in the order they run. */
export const SCENARIO_NAMES = [
  'cost',
  'population',
  'new-session',
  'read-mostly',
  'read-modify-write',
  'hot-session',
  'large-population',
  'low-concurrency',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The scenarios measured under a saturating (closed-loop) load: one table each in the report. */
export const SATURATING_SCENARIOS: readonly ScenarioName[] = SCENARIO_NAMES.filter(
  (s) => s !== 'cost' && s !== 'population',
);

/**
 * What runs when no `--scenarios` is given: all but `population`, whose fill large-population measures too
 * (the same sessions, the same size, RSS taken after the same garbage collection, before its load).
 */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = SCENARIO_NAMES.filter((s) => s !== 'population');

/** The paced load of the cost scenario: every server at the same rate, below everyone's capacity. */
export interface CostLoad {
  /** Requests per second over all connections (`--rate`). */
  readonly rate: number;
  readonly connections: number;
  /**
   * Warm-up of both routes before /read is measured. The first route measured otherwise pays for the JIT
   * compiling the server's request path (its compiler threads count in the process's CPU): measured here,
   * map's /read cost 57 µs after a 0.3 s warm-up of /read alone and 24 µs after 2 s.
   */
  readonly firstWarmupS: number;
  /** Warm-up of /incr alone, between the two measurements. */
  readonly warmupS: number;
  readonly durationS: number;
}

/** Sizes and times of one bench run: `full` for the record, `quick` to check a change. */
export interface Profile {
  readonly name: 'full' | 'quick' | 'custom';
  /** Runs of every (scenario, server), interleaved: the report gives their median and min–max. */
  readonly repeat: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Live sessions of large-population and population. */
  readonly population: number;
  /** Existing sessions of read-mostly, read-modify-write, low-concurrency and cost. */
  readonly sessions: number;
  readonly connections: number;
  /**
   * A second, paced measurement of read-mostly and large-population at this fixed rate (req/s, 0 = none):
   * under a saturating load one event-loop turn serves up to 100 requests, so the event-loop delay measures
   * the turn; below saturation it shows what the store itself costs the main thread (GC of a big heap).
   */
  readonly pacedRate: number;
  readonly pacedS: number;
  readonly cost: CostLoad;
}

export const PROFILES = {
  full: {
    name: 'full',
    repeat: 5,
    warmupS: 1,
    durationS: 4,
    population: 1_000_000,
    sessions: 10_000,
    connections: 100,
    pacedRate: 1_000,
    pacedS: 3,
    cost: { rate: 6_000, connections: 50, firstWarmupS: 3, warmupS: 1, durationS: 4 },
  },
  // 14 servers × 7 scenarios × 3 runs = 294 runs in about 10 minutes on a quiet machine: each window is
  // short, and the repeats are what make its medians worth reading. The full profile's windows are 1 + 4 s
  // (cost: 3 s warming both routes, then 4 s measured per route).
  quick: {
    name: 'quick',
    repeat: 3,
    warmupS: 0.2,
    durationS: 0.5,
    population: 200_000,
    sessions: 10_000,
    connections: 100,
    // No paced window: it would not fit the 10 minutes.
    pacedRate: 0,
    pacedS: 0,
    cost: { rate: 6_000, connections: 50, firstWarmupS: 1.2, warmupS: 0.3, durationS: 0.8 },
  },
} as const satisfies Record<string, Profile>;

/** The named measurement windows of a run. */
export type WindowName = 'load' | 'paced' | 'read' | 'incr';

/** One measured window of a run: a load, its rate (paced) or none (as fast as the server answers). */
export interface LoadWindow {
  readonly name: WindowName;
  readonly plan: LoadPlan;
  /** What the warm-up sends, when not `plan` (paced windows only). */
  readonly warmupPlan?: LoadPlan;
  readonly warmupS: number;
  readonly durationS: number;
  readonly rate?: number;
}

/** What the harness does for one scenario. */
export interface Scenario {
  readonly name: ScenarioName;
  readonly connections: number;
  /** Sessions to create in the server's store before anything is measured. */
  readonly prefill: number;
  /** How many of their cookies the client needs. */
  readonly sample: number;
  /** Live sessions while measuring (for the event-loop chart), if the scenario fixes it. */
  readonly population?: number;
  /** Whether to read the counter back and report lost updates. */
  readonly countsUpdates: boolean;
  /** The measured windows, in order, on the same server, given the cookies the prefill answered. */
  windows(cookies: readonly string[]): LoadWindow[];
}

// A connection cycles through at most this many sessions: enough to spread the load, few enough that
// autocannon's pre-built request buffers stay small.
const SESSIONS_PER_CONNECTION = 100;

/** Connection `index` gets sessions index, index + connections, … (each session belongs to one connection). */
function cookiesOf(cookies: readonly string[], index: number, connections: number): string[] {
  const mine: string[] = [];
  for (let i = index; i < cookies.length && mine.length < SESSIONS_PER_CONNECTION; i += connections) {
    mine.push(cookies[i] as string);
  }
  return mine;
}

/** 9 reads of `user` and `count` for every read that also writes `last`: a read-mostly app. */
function readMostly(cookies: readonly string[], connections: number): LoadPlan {
  return {
    connections,
    requestsFor: (index) => {
      const mine = cookiesOf(cookies, index, connections);
      // Pad to a multiple of 10 so every connection's cycle has the same 10% of writes.
      const length = Math.max(10, Math.ceil(mine.length / 10) * 10);
      return Array.from({ length }, (_, j): PlannedRequest => {
        const cookie = mine.length > 0 ? (mine[j % mine.length] as string) : '';
        return { path: j % 10 === 9 ? '/write' : '/read', cookie };
      });
    },
  };
}

/** Every request to `path` (or to each of `paths` in turn), each connection round its own sessions. */
export function routeEach(
  path: string | readonly string[],
  cookies: readonly string[],
  connections: number,
): LoadPlan {
  const paths = typeof path === 'string' ? [path] : path;
  return {
    connections,
    requestsFor: (index) => {
      const mine = cookiesOf(cookies, index, connections);
      if (mine.length === 0) return paths.map((p) => ({ path: p }));
      return mine.flatMap((cookie) => paths.map((p) => ({ path: p, cookie })));
    },
  };
}

/** Cookies the population scenario reads back after its fill, to prove the sessions are there. */
export const FILL_CHECKS = 3;

/** The saturating window of a scenario, and the paced one where the profile and the scenario want it. */
function saturating(profile: Profile, plan: LoadPlan, paced = false): LoadWindow[] {
  const windows: LoadWindow[] = [
    { name: 'load', plan, warmupS: profile.warmupS, durationS: profile.durationS },
  ];
  if (paced && profile.pacedRate > 0 && profile.pacedS > 0) {
    // The paced window follows the saturating one on new connections; PACED_WARMUP_S of it is discarded.
    windows.push({
      name: 'paced',
      plan,
      warmupS: PACED_WARMUP_S,
      durationS: profile.pacedS,
      rate: profile.pacedRate,
    });
  }
  return windows;
}

const PACED_WARMUP_S = 0.5;

/** The scenarios of a profile, in the order they run. */
export function scenarios(profile: Profile): Scenario[] {
  const { connections, sessions, population, cost } = profile;
  const costWindows = (cookies: readonly string[]): LoadWindow[] => [
    {
      name: 'read',
      plan: routeEach('/read', cookies, cost.connections),
      warmupPlan: routeEach(['/read', '/incr'], cookies, cost.connections),
      warmupS: cost.firstWarmupS,
      durationS: cost.durationS,
      rate: cost.rate,
    },
    {
      name: 'incr',
      plan: routeEach('/incr', cookies, cost.connections),
      warmupS: cost.warmupS,
      durationS: cost.durationS,
      rate: cost.rate,
    },
  ];
  return [
    {
      // Server CPU per request at one paced rate, the same for every server: the client then behaves alike
      // for all, so the CPU the server process spends (all its threads) per answered request is its own cost.
      name: 'cost',
      connections: cost.connections,
      prefill: sessions,
      sample: sessions,
      population: sessions,
      countsUpdates: false,
      windows: costWindows,
    },
    {
      // The fill alone: RSS per live session of two small keys, and how long creating them took.
      name: 'population',
      connections: 0,
      prefill: population,
      sample: FILL_CHECKS,
      population,
      countsUpdates: false,
      windows: () => [],
    },
    {
      name: 'new-session',
      connections,
      prefill: 0,
      sample: 0,
      countsUpdates: false,
      // No cookie ever: every request is a first visit and creates a session (a login storm).
      windows: () => saturating(profile, { connections, requestsFor: () => [{ path: '/new' }] }),
    },
    {
      name: 'read-mostly',
      connections,
      prefill: sessions,
      sample: sessions,
      population: sessions,
      countsUpdates: false,
      windows: (cookies) => saturating(profile, readMostly(cookies, connections), true),
    },
    {
      name: 'read-modify-write',
      connections,
      prefill: sessions,
      sample: sessions,
      countsUpdates: false,
      windows: (cookies) => saturating(profile, routeEach('/incr', cookies, connections)),
    },
    {
      name: 'hot-session',
      connections,
      // One session, counter at 0: lost updates = increments acknowledged since start − the final counter.
      prefill: 1,
      sample: 1,
      countsUpdates: true,
      windows: (cookies) => {
        const cookie = cookies[0] ?? '';
        return saturating(profile, { connections, requestsFor: () => [{ path: '/incr', cookie }] });
      },
    },
    {
      name: 'large-population',
      connections,
      prefill: population,
      // The client reads a spread sample; the rest of the population is what the server's heap must carry.
      sample: Math.min(population, sessions),
      population,
      countsUpdates: false,
      windows: (cookies) => saturating(profile, readMostly(cookies, connections), true),
    },
    {
      name: 'low-concurrency',
      connections: 1,
      prefill: sessions,
      sample: SESSIONS_PER_CONNECTION,
      countsUpdates: false,
      windows: (cookies) => saturating(profile, readMostly(cookies, 1)),
    },
  ];
}
