import { parseDuration } from '../../duration.js';
import { InvalidOptionError } from '../../errors.js';
import { type ProviderChoice, resolveProvider } from '../../options.js';
import type { SessionLimits, SessionProvider } from '../../providers/provider.js';
import { PRUNE_STEPS, StoreKeys } from './store-keys.js';

/** The options of {@link ShardSessionStore} besides the provider. */
export interface ShardSessionStoreBaseOptions {
  /**
   * Lifetime of a session whose cookie has no expiry (express-session's default browser-session cookie), in ms
   * or like `'1d'`. A cookie's `expires` (set from `cookie.maxAge`) wins. Default `'1d'`, as connect-redis.
   * Note: a number is milliseconds here, where connect-redis counts seconds.
   */
  ttl?: number | string;
  /** Keeps this store's sessions apart from another store's in a shared provider. Default `''`. */
  prefix?: string;
  /**
   * The HMAC-SHA256 key that maps express-session ids to provider ids, at least 16 bytes. Default: 32 random
   * bytes per store, which is right while the sessions live no longer than the process ('memory',
   * 'sharded'). Set it to a fixed secret when the provider outlives the process or several processes share it
   * (durable, Redis, PostgreSQL): with a new key, a restarted process finds none of the sessions.
   */
  hashKey?: string | Uint8Array;
  /** The clock, in ms since the epoch; passed to a named provider too. Default `Date.now`. */
  now?: () => number;
  /**
   * Time between two steps of the index pruner, each of which checks a 256th of the index (16 of its 4,096
   * buckets) for sessions that are gone; in ms or like `'30s'`, 0 to turn it off (then call `prune()`).
   * Default: one pass over the index per `ttl`, a step every `ttl / 256` held between 1 second and 1 minute.
   */
  pruneInterval?: number | string;
}

/**
 * Options of {@link ShardSessionStore}: its own, and a provider chosen as for `createSessionManager` — by name with
 * that provider's options (typed per name, see `ProviderOptionsByName`), or an instance. Default `'sharded'`.
 */
export type ShardSessionStoreOptions = ShardSessionStoreBaseOptions & ProviderChoice;

/**
 * Room for the index in a provider the store builds: a bucket lists up to `maxKeys` sessions, so with these
 * 4,096 × 65,536 = 268 M sessions fit. A session record itself holds three keys, and its size stays bounded by
 * `maxValueBytes` (64 KiB by default): raising these two limits changes nothing for sessions. Options given in
 * `providerOptions` win.
 */
const INDEX_LIMITS: SessionLimits = { maxKeys: 65_536, maxSessionBytes: 4 * 1024 * 1024 };

const DEFAULT_TTL = '1d';
const MIN_HASH_KEY_BYTES = 16;
const OPTION_NAMES = ['provider', 'providerOptions', 'ttl', 'prefix', 'hashKey', 'now', 'pruneInterval'];

/** The store's options checked, with the provider built. */
export interface ResolvedStoreOptions {
  readonly provider: SessionProvider;
  readonly keys: StoreKeys;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly pruneIntervalMs: number;
}

/** Checks every option (a bad or unknown one throws `InvalidOptionError` naming it) and builds the provider. */
export function resolveStoreOptions(options: ShardSessionStoreOptions): ResolvedStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError('ShardSessionStore: options must be an object');
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name))
      throw new InvalidOptionError(`unknown option '${name}' of ShardSessionStore`);
  }
  const now = options.now ?? (() => Date.now());
  if (typeof now !== 'function') throw new InvalidOptionError('now must be a function');
  const ttlMs = parseDuration('ttl', options.ttl ?? DEFAULT_TTL);
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') throw new InvalidOptionError('prefix must be a string');
  const keys = new StoreKeys(prefix, hashKeyBytes(options.hashKey));
  const pruneIntervalMs =
    options.pruneInterval === 0
      ? 0
      : options.pruneInterval === undefined
        ? Math.min(60_000, Math.max(1000, Math.round(ttlMs / PRUNE_STEPS)))
        : parseDuration('pruneInterval', options.pruneInterval);
  // Built last: nothing is started for options that are refused.
  const provider = resolveProvider({ ...options, limits: INDEX_LIMITS }, now);
  return { provider, keys, ttlMs, now, pruneIntervalMs };
}

function hashKeyBytes(hashKey: unknown): Uint8Array | undefined {
  if (hashKey === undefined) return undefined;
  const bytes =
    typeof hashKey === 'string' ? Buffer.from(hashKey) : hashKey instanceof Uint8Array ? hashKey : undefined;
  if (bytes === undefined || bytes.byteLength < MIN_HASH_KEY_BYTES) {
    throw new InvalidOptionError(
      `hashKey must be a string or Uint8Array of at least ${MIN_HASH_KEY_BYTES} bytes`,
    );
  }
  return bytes;
}
