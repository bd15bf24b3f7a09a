import { InvalidOptionError } from '../errors.js';
import type { ProviderOptions, SessionLimits } from './provider.js';

/** Every limit with its value filled in. */
export type ResolvedLimits = { readonly [K in keyof SessionLimits]-?: number };

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxValueBytes: 64 * 1024,
  maxSessionBytes: 1024 * 1024,
  maxKeys: 1000,
  maxSessions: 4_000_000,
  /** 0: half the heap limit of the thread that owns the table, worked out there (see SessionTable). */
  maxShardBytes: 0,
};

/** GC defaults: a tick a second, 2 ms of sweeping per slice. */
export const DEFAULT_GC_INTERVAL_MS = 1000;
export const DEFAULT_GC_SLICE_MS = 2;

/**
 * The option names every provider understands (`ProviderOptions`). `maxShardBytes` is not one of them: only
 * the providers built on SessionTable ('memory', 'sharded') enforce it, and list it as their own.
 */
export const COMMON_OPTION_NAMES: readonly string[] = [
  'maxValueBytes',
  'maxSessionBytes',
  'maxKeys',
  'maxSessions',
  'now',
  'gcIntervalMs',
  'gcSliceMs',
];

/** `ProviderOptions` with every default filled in and every value checked. */
export interface ResolvedProviderOptions {
  readonly limits: ResolvedLimits;
  readonly now: () => number;
  readonly gcIntervalMs: number;
  readonly gcSliceMs: number;
}

/**
 * Checks a provider's options: an object whose every name is known (a typo such as `{ shard: 2 }` is an
 * `InvalidOptionError` naming it, not silently ignored) and whose common values are in range.
 * `ownNames` are the provider's own options beyond `ProviderOptions`, which the provider checks itself.
 */
export function resolveProviderOptions(
  provider: string,
  options: unknown,
  ownNames: readonly string[] = [],
): ResolvedProviderOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`the '${provider}' provider's options must be an object`);
  }
  for (const name of Object.keys(options)) {
    if (!COMMON_OPTION_NAMES.includes(name) && !ownNames.includes(name)) {
      const known = [...ownNames, ...COMMON_OPTION_NAMES].join(', ');
      throw new InvalidOptionError(
        `unknown option '${name}' of the '${provider}' provider (known: ${known})`,
      );
    }
  }
  const o = options as ProviderOptions;
  const now = o.now ?? Date.now;
  if (typeof now !== 'function') throw new InvalidOptionError('now must be a function');
  return {
    limits: resolveLimits(o),
    now,
    gcIntervalMs: integerOption('gcIntervalMs', o.gcIntervalMs, DEFAULT_GC_INTERVAL_MS, 0),
    gcSliceMs: integerOption('gcSliceMs', o.gcSliceMs, DEFAULT_GC_SLICE_MS, 1),
  };
}

/** Checks that an option is a whole number in range, or throws a clear `InvalidOptionError`. */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidOptionError(`${name} must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}

/** Fills in the defaults and validates every limit. */
export function resolveLimits(options: SessionLimits = {}): ResolvedLimits {
  return {
    maxValueBytes: integerOption('maxValueBytes', options.maxValueBytes, DEFAULT_LIMITS.maxValueBytes, 1),
    maxSessionBytes: integerOption(
      'maxSessionBytes',
      options.maxSessionBytes,
      DEFAULT_LIMITS.maxSessionBytes,
      1,
    ),
    maxKeys: integerOption('maxKeys', options.maxKeys, DEFAULT_LIMITS.maxKeys, 1),
    maxSessions: integerOption('maxSessions', options.maxSessions, DEFAULT_LIMITS.maxSessions, 1),
    maxShardBytes: integerOption('maxShardBytes', options.maxShardBytes, DEFAULT_LIMITS.maxShardBytes, 1),
  };
}
