import type { LoadPlan, PlannedRequest } from './load.js';

/** The names of the scenarios, as the issue and the report spell them. */
export const SCENARIO_NAMES = [
  'new-session',
  'read-mostly',
  'read-modify-write',
  'hot-session',
  'large-population',
  'low-concurrency',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Sizes and times of one bench run: `full` for the record, `quick` to check a change. */
export interface Profile {
  readonly name: 'full' | 'quick' | 'custom';
  readonly warmupS: number;
  readonly durationS: number;
  /** Live sessions of large-population. */
  readonly population: number;
  /** Existing sessions of read-mostly, read-modify-write and low-concurrency. */
  readonly sessions: number;
  readonly connections: number;
  /**
   * A second, paced measurement of read-mostly and large-population at this fixed rate (req/s, 0 = none):
   * under a saturating load one event-loop turn serves up to 100 requests, so the event-loop delay measures
   * the turn; below saturation it shows what the store itself costs the main thread (GC of a big heap).
   */
  readonly pacedRate: number;
  readonly pacedS: number;
}

export const PROFILES = {
  full: {
    name: 'full',
    warmupS: 2,
    durationS: 8,
    population: 2_000_000,
    sessions: 10_000,
    connections: 100,
    pacedRate: 1_000,
    pacedS: 3,
  },
  quick: {
    name: 'quick',
    warmupS: 0.3,
    durationS: 1,
    population: 200_000,
    sessions: 10_000,
    connections: 100,
    // No paced window: it would not fit the 3 minutes.
    pacedRate: 0,
    pacedS: 0,
  },
} as const satisfies Record<string, Profile>;

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
  /** Whether the profile's paced measurement runs too. */
  readonly paced?: boolean;
  /** The load (warm-up and measurement alike), given the cookies the prefill answered. */
  plan(cookies: readonly string[]): LoadPlan;
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

function incrEach(cookies: readonly string[], connections: number): LoadPlan {
  return {
    connections,
    requestsFor: (index) => {
      const mine = cookiesOf(cookies, index, connections);
      return mine.length > 0 ? mine.map((cookie) => ({ path: '/incr', cookie })) : [{ path: '/incr' }];
    },
  };
}

/** The scenarios of a profile, in the order they run. */
export function scenarios(profile: Profile): Scenario[] {
  const { connections, sessions, population } = profile;
  return [
    {
      name: 'new-session',
      connections,
      prefill: 0,
      sample: 0,
      countsUpdates: false,
      // No cookie ever: every request is a first visit and creates a session (a login storm).
      plan: () => ({ connections, requestsFor: () => [{ path: '/new' }] }),
    },
    {
      name: 'read-mostly',
      connections,
      prefill: sessions,
      sample: sessions,
      population: sessions,
      countsUpdates: false,
      paced: true,
      plan: (cookies) => readMostly(cookies, connections),
    },
    {
      name: 'read-modify-write',
      connections,
      prefill: sessions,
      sample: sessions,
      countsUpdates: false,
      plan: (cookies) => incrEach(cookies, connections),
    },
    {
      name: 'hot-session',
      connections,
      // One session, counter at 0: lost updates = increments acknowledged since start − the final counter.
      prefill: 1,
      sample: 1,
      countsUpdates: true,
      plan: (cookies) => {
        const cookie = cookies[0] ?? '';
        return { connections, requestsFor: () => [{ path: '/incr', cookie }] };
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
      paced: true,
      plan: (cookies) => readMostly(cookies, connections),
    },
    {
      name: 'low-concurrency',
      connections: 1,
      prefill: sessions,
      sample: SESSIONS_PER_CONNECTION,
      countsUpdates: false,
      plan: (cookies) => readMostly(cookies, 1),
    },
  ];
}
