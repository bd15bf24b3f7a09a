import { InvalidArgumentError, SessionTooLargeError } from '../../errors.js';
import type { SessionDelta } from '../provider.js';
import type { ResolvedLimits } from '../provider-options.js';

/** A delta reduced to its effect: keys to set (last value wins) and other keys to delete, each named once. */
export interface ResolvedDelta {
  readonly sets: [string, Uint8Array][];
  readonly deletes: string[];
  /** Bytes of the values set: what the statement carries. */
  readonly valueBytes: number;
}

// In a /u pattern a well-formed pair is one code point, so only a lone surrogate has category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Throws `InvalidArgumentError` for a key PostgreSQL `text` cannot hold as given: one with U+0000, or with a
 * lone surrogate (which UTF-8 cannot encode: it would be stored as U+FFFD, a different key).
 */
export function checkStorableKey(key: string): void {
  if (key.includes('\0') || LONE_SURROGATE.test(key)) {
    throw new InvalidArgumentError(
      `the 'postgres' provider cannot store the key ${JSON.stringify(key)}: no U+0000 or lone surrogate in a PostgreSQL text`,
    );
  }
}

/**
 * Resolves a checked delta as every provider applies it (deletes first, then sets, the last set of a key
 * winning), checks its keys and each value's size, and copies the values: the caller may reuse its buffers
 * as soon as the call returns, before the batch leaves.
 */
export function resolveDelta(delta: SessionDelta | undefined, limits: ResolvedLimits): ResolvedDelta {
  const effect = new Map<string, Uint8Array | undefined>();
  for (const key of delta?.delete ?? []) {
    checkStorableKey(key);
    effect.set(key, undefined);
  }
  for (const [key, value] of delta?.set ?? []) {
    checkStorableKey(key);
    if (value.byteLength > limits.maxValueBytes) {
      throw new SessionTooLargeError(
        `the value of "${key}" is ${value.byteLength} bytes, over the limit of ${limits.maxValueBytes}`,
      );
    }
    effect.set(key, value);
  }
  const sets: [string, Uint8Array][] = [];
  const deletes: string[] = [];
  let valueBytes = 0;
  for (const [key, value] of effect) {
    if (value === undefined) deletes.push(key);
    else {
      sets.push([key, Uint8Array.prototype.slice.call(value)]);
      valueBytes += value.byteLength;
    }
  }
  return { sets, deletes, valueBytes };
}

/**
 * Checks a new session's initial values against the session limits: unlike a commit's, their size does not
 * depend on what is stored, so they are refused before anything is sent.
 */
export function checkInitialSize(initial: ResolvedDelta, limits: ResolvedLimits): void {
  if (initial.sets.length > limits.maxKeys) {
    throw new SessionTooLargeError(
      `the session would hold ${initial.sets.length} keys, over the limit of ${limits.maxKeys}`,
    );
  }
  let bytes = 0;
  for (const [key, value] of initial.sets) bytes += Buffer.byteLength(key) + value.byteLength;
  if (bytes > limits.maxSessionBytes) {
    throw new SessionTooLargeError(
      `the session would be ${bytes} bytes, over the limit of ${limits.maxSessionBytes}`,
    );
  }
}
