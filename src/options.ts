import { UnawaitedCommitFailures } from './commit-failures.js';
import { parseDuration } from './duration.js';
import { InvalidOptionError } from './errors.js';
import type { SessionLimits, SessionPolicy, SessionProvider } from './providers/provider.js';
import { DEFAULT_LIMITS, integerOption } from './providers/provider-options.js';
import type { ShardedProviderOptions } from './providers/sharded/provider.js';
import { createProvider, type ProviderName, type ProviderOptionsByName } from './registry.js';
import type { SessionCookieOptions } from './transport/cookie.js';
import type { TransportName } from './transport/id-transport.js';
import { IdTransports } from './transport/transports.js';

/** The options of {@link createSessionManager} besides the provider. */
export interface SessionManagerBaseOptions {
  /** Name of the cookie. Default `'sid'`. */
  cookieName?: string;
  /** Sliding idle timeout (the classic maxlifetime), in ms or like `'30m'`. Default `'30m'`. */
  idleTimeout?: number | string;
  /** Absolute timeout from creation, in ms or like `'24h'`. Default `'24h'`. */
  absoluteTimeout?: number | string;
  /**
   * The longest timeouts `session.setTimeouts` may give one session (remember-me), in ms or like `'30d'`.
   * Default: `{ idle: '30d', absolute: '30d' }`; each at least the manager's own timeout.
   */
  maxTimeouts?: { idle?: number | string; absolute?: number | string };
  /** Cookie attributes. Defaults: HttpOnly, SameSite=Lax, Path=/, Secure 'auto', persistent (Max-Age). */
  cookie?: SessionCookieOptions;
  /** HMAC-SHA256 secrets for the transported id: the first signs, all verify (rotation). Default: unsigned. */
  secrets?: string | readonly string[];
  /** Where the id is read from, in order of preference, and written to. Default `['cookie']`. */
  transports?: readonly TransportName[];
  /** Header of the `'header'` transport. Default `'x-session-id'`. */
  headerName?: string;
  /** Query parameter of the `'url'` transport. Default `'sid'`. */
  urlParam?: string;
  /** Trust `X-Forwarded-Proto` for Secure 'auto' (set it behind a TLS-terminating proxy). Default false. */
  trustProxy?: boolean;
  /** Limits, passed to a named provider; `maxValueBytes` is also checked by `set` right away. */
  limits?: SessionLimits;
  /** The clock, in ms since the epoch; passed to a named provider too. Default `Date.now`. */
  now?: () => number;
  /**
   * Receives every failure of a commit sent as the headers go out (nobody awaits those). Default: a process
   * warning (`SessionCommitWarning`, code `SHARD_SESSION_COMMIT_FAILED`), the first one and then at most one
   * per 10 s that counts the others. Either way they are counted in `stats().unawaitedCommitFailures`.
   */
  onError?: (error: unknown) => void;
}

/**
 * Which provider stores the sessions: a registered name with that provider's own options (typed per name,
 * see `ProviderOptionsByName`), or an instance. Default `'sharded'`.
 */
export type ProviderChoice =
  | { provider?: undefined; providerOptions?: ShardedProviderOptions }
  | {
      [Name in ProviderName]: { provider: Name; providerOptions?: ProviderOptionsByName[Name] };
    }[ProviderName]
  | { provider: SessionProvider; providerOptions?: undefined };

/** Options of {@link createSessionManager}. Every one is validated at construction. */
export type SessionManagerOptions = SessionManagerBaseOptions & ProviderChoice;

/**
 * Slide the idle deadline with an empty commit only when more than this fraction of the idle timeout passed
 * since the last slide: a busy reader then costs one store write per 3 minutes (with 30m), not one per request,
 * and the session still never dies less than 90% of the idle timeout after its last use.
 */
export const TOUCH_FRACTION = 0.1;

/** The manager's options checked, with every default filled in and the provider built. */
export interface ResolvedManagerOptions {
  readonly provider: SessionProvider;
  readonly policy: SessionPolicy;
  readonly maxTimeouts: SessionPolicy;
  readonly now: () => number;
  readonly transports: IdTransports;
  readonly maxValueBytes: number;
  readonly touchAfterMs: number;
  /** Where failures of unawaited commits go: `onError` (made safe to call) or rate-limited warnings; counted. */
  readonly commitFailures: UnawaitedCommitFailures;
}

const OPTION_NAMES = [
  'provider',
  'providerOptions',
  'cookieName',
  'idleTimeout',
  'absoluteTimeout',
  'maxTimeouts',
  'cookie',
  'secrets',
  'transports',
  'headerName',
  'urlParam',
  'trustProxy',
  'limits',
  'now',
  'onError',
];

/** Checks every option (a bad or unknown one throws `InvalidOptionError` naming it) and builds the provider. */
export function resolveManagerOptions(options: SessionManagerOptions): ResolvedManagerOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('createSessionManager: options must be an object');
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) {
      throw new InvalidOptionError(`unknown option '${name}' of createSessionManager`);
    }
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new InvalidOptionError('now must be a function');
  const idleTimeoutMs = parseDuration('idleTimeout', options.idleTimeout ?? '30m');
  const absoluteTimeoutMs = parseDuration('absoluteTimeout', options.absoluteTimeout ?? '24h');
  const maxTimeouts = resolveMaxTimeouts(options.maxTimeouts, idleTimeoutMs, absoluteTimeoutMs);
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new InvalidOptionError('onError must be a function');
  }
  const transports = new IdTransports(options);
  const maxValueBytes = integerOption(
    'limits.maxValueBytes',
    options.limits?.maxValueBytes,
    DEFAULT_LIMITS.maxValueBytes,
    1,
  );
  return {
    provider: resolveProvider(options, now),
    policy: Object.freeze({ idleTimeoutMs, absoluteTimeoutMs }),
    maxTimeouts,
    now,
    transports,
    maxValueBytes,
    touchAfterMs: idleTimeoutMs * TOUCH_FRACTION,
    commitFailures: new UnawaitedCommitFailures(onError, now),
  };
}

/** `maxTimeouts` checked: durations, each at least the manager's own timeout (refused otherwise). */
function resolveMaxTimeouts(
  option: SessionManagerBaseOptions['maxTimeouts'],
  idleTimeoutMs: number,
  absoluteTimeoutMs: number,
): SessionPolicy {
  if (option !== undefined && (option === null || typeof option !== 'object')) {
    throw new InvalidOptionError('maxTimeouts must be an object { idle?, absolute? }');
  }
  for (const name of Object.keys(option ?? {})) {
    if (name !== 'idle' && name !== 'absolute')
      throw new InvalidOptionError(`unknown option 'maxTimeouts.${name}'`);
  }
  const idle = parseDuration('maxTimeouts.idle', option?.idle ?? '30d');
  const absolute = parseDuration('maxTimeouts.absolute', option?.absolute ?? '30d');
  if (idle < idleTimeoutMs || absolute < absoluteTimeoutMs) {
    throw new InvalidOptionError(
      `maxTimeouts (${idle} ms idle, ${absolute} ms absolute) must be at least idleTimeout (${idleTimeoutMs} ms) and absoluteTimeout (${absoluteTimeoutMs} ms)`,
    );
  }
  return Object.freeze({ idleTimeoutMs: idle, absoluteTimeoutMs: absolute });
}

const PROVIDER_METHODS = ['init', 'read', 'commit', 'incr', 'rename', 'destroy', 'count', 'stats', 'close'];

/**
 * Builds the provider a `ProviderChoice` names, with `limits` and the clock under its own options (which win),
 * or checks the instance it gives. Throws `InvalidOptionError`. The manager and the express-session store
 * choose their provider the same way.
 */
export function resolveProvider(
  options: ProviderChoice & { readonly limits?: SessionLimits },
  now: () => number,
): SessionProvider {
  const provider = options.provider ?? 'sharded';
  if (typeof provider === 'string') {
    if (options.limits !== undefined && (options.limits === null || typeof options.limits !== 'object')) {
      throw new InvalidOptionError('limits must be an object');
    }
    const providerOptions = { ...options.limits, now, ...options.providerOptions };
    return createProvider(provider as ProviderName, providerOptions);
  }
  if (
    provider === null ||
    typeof provider !== 'object' ||
    PROVIDER_METHODS.some((m) => typeof (provider as unknown as Record<string, unknown>)[m] !== 'function')
  ) {
    throw new InvalidOptionError(
      'provider must be a registered name or an object implementing SessionProvider',
    );
  }
  if (options.providerOptions !== undefined) {
    throw new InvalidOptionError('providerOptions apply to a provider given by name, not to an instance');
  }
  return provider;
}
