import type { SessionLimits, SessionProvider } from '../providers/provider.js';

/**
 * Every limit of {@link SessionLimits} but the byte budget (`maxShardBytes`, left at each provider's
 * default), filled in: what the suite hands the factory to pass through.
 */
export type ContractLimits = { readonly [K in Exclude<keyof SessionLimits, 'maxShardBytes'>]-?: number };

/** What the suite gives the factory each time it needs a provider. */
export interface ProviderContext {
  /**
   * The provider's clock, in ms since the epoch. It starts at the real `Date.now()` and moves only when the
   * suite says so. Compare every deadline with it; a server-side TTL may back it up, but must never remove a
   * session before this clock says it is dead (give the TTL some slack: the suite's timeouts are >= 5 s).
   */
  readonly now: () => number;
  /** The limits to configure the provider with (spread them into its options). */
  readonly limits: ContractLimits;
  /**
   * A name no other provider of this run gets (`[a-z0-9_]`): a key prefix, schema or table name, so that
   * every provider the factory builds starts over empty storage that no other one sees.
   */
  readonly namespace: string;
  /** Registers work to run once the suite has closed this provider (drop the namespace, stop a server). */
  onCleanup(cleanup: () => unknown): void;
}

/**
 * Builds one provider over empty storage. The suite calls it per test or per file (see
 * {@link ProviderContractOptions.scope}) and closes every provider it built.
 */
export type ContractFactory = (context: ProviderContext) => SessionProvider | Promise<SessionProvider>;

/**
 * Parts of the contract a provider may declare it does not offer, so their tests are skipped (and shown as
 * skipped) instead of failing:
 * - `gcAt`: `gc(now)` sweeps what is expired at the given time, not only at the provider's own time.
 * - `gcCount`: `gc()` resolves exactly how many sessions it removed (a store that expires keys itself
 *   cannot know).
 * - `expiredStat`: `stats()` counts the sessions that were removed because they expired.
 * - `maxSessions`: the provider enforces `maxSessions` by evicting sessions never read since their creation
 *   first (oldest first), then the session closest to expiry.
 * - `backwardClock`: the provider keeps working when its clock steps back (an NTP correction).
 * - `users`: `bindUser`, `sessionsOf`, `revoke`, `revokeUser` (issue 13: a user's sessions, from an index).
 * - `timeouts`: `setTimeouts` (a session's own timeouts, remember-me).
 * - `events`: `onEvents` (created, destroyed, expired, evicted events of user-bound sessions).
 */
export type ProviderCapability =
  | 'gcAt'
  | 'gcCount'
  | 'expiredStat'
  | 'maxSessions'
  | 'backwardClock'
  | 'users'
  | 'timeouts'
  | 'events';

/** How the random-sequence property test runs. */
export interface PropertyOptions {
  /** Random sequences to try. Default 100; lower it for a slow external store. */
  readonly runs?: number;
  /** Replays a failure: the `seed` fast-check printed with the counterexample. */
  readonly seed?: number;
  /** With `seed`, replays exactly the shrunk counterexample: the `path` fast-check printed. */
  readonly path?: string;
}

/** How {@link describeProvider} runs the suite for one provider. */
export interface ProviderContractOptions {
  /**
   * `'test'` (default): a new provider for every test, closed after it. `'file'`: one provider shared by
   * every test that can share one (they use fresh ids and long timeouts); tests that move the clock, need
   * other limits or close the provider still get their own.
   */
  readonly scope?: 'test' | 'file';
  /** Parts of the contract this provider does not offer; their tests are skipped. */
  readonly lacks?: readonly ProviderCapability[];
  /** The random-sequence property test's settings. */
  readonly property?: PropertyOptions;
  /** Timeout of each test, in ms (default: the runner's). Raise it for a slow external store. */
  readonly timeoutMs?: number;
  /**
   * Tests known to fail for this provider, by title, each with the reason (a bug to fix). They run as
   * `it.fails`, so the suite turns red as soon as one starts passing and its entry can go.
   */
  readonly expectedFailures?: Readonly<Record<string, string>>;
}
