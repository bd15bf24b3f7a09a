import { InvalidOptionError } from '../errors.js';
import type { ProviderOptions, StoreLimits } from './provider.js';

/** Every limit with its value filled in. */
export type ResolvedLimits = { readonly [K in keyof StoreLimits]-?: number };

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxValueBytes: 64 * 1024,
  maxSessionBytes: 1024 * 1024,
  maxKeys: 1000,
  maxSessions: 4_000_000,
};

/** GC defaults: a tick a second, 2 ms of sweeping per slice. */
export const DEFAULT_GC_INTERVAL_MS = 1000;
export const DEFAULT_GC_SLICE_MS = 2;

/** Checks that an option is a whole number in range, or throws a clear `InvalidOptionError`. */
export function integerOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Fills in the defaults and validates every limit. */
export function resolveLimits(options: ProviderOptions = {}): ResolvedLimits {
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
  };
}
