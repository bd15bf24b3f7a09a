import { InvalidArgumentError, InvalidSessionIdError } from '../errors.js';
import { isValidSid } from '../sid.js';
import type { SessionDelta, SessionPolicy } from './provider.js';

/**
 * The checks of the provider contract's arguments, in one place. Each value is checked once, at the
 * boundary it crosses into a provider (a provider's public method), and trusted below it: the session
 * table and the shard workers never check again. The session layer checks what the user hands it
 * (`session.set(key)`) with the same functions, so both boundaries agree on every rule.
 */

/** Throws `InvalidSessionIdError` unless `sid` has the exact shape of a session id. */
export function checkSid(sid: unknown): asserts sid is string {
  if (!isValidSid(sid)) throw new InvalidSessionIdError();
}

/** Throws `InvalidArgumentError` unless `key` can name a session value: a non-empty string. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidArgumentError('a session key must be a non-empty string');
  }
}

/** Throws `InvalidArgumentError` unless `by` is a finite number: what `incr` may add. */
export function checkIncrAmount(by: unknown): asserts by is number {
  if (typeof by !== 'number' || !Number.isFinite(by)) {
    throw new InvalidArgumentError('incr: the increment must be a finite number');
  }
}

/** Throws `InvalidArgumentError` unless both timeouts are positive finite numbers of ms. */
export function checkPolicy(policy: unknown): asserts policy is SessionPolicy {
  const ok = (ms: unknown) => typeof ms === 'number' && Number.isFinite(ms) && ms > 0;
  const p = policy as Partial<SessionPolicy> | null | undefined;
  if (p === null || typeof p !== 'object' || !ok(p.idleTimeoutMs) || !ok(p.absoluteTimeoutMs)) {
    throw new InvalidArgumentError(
      'policy.idleTimeoutMs and policy.absoluteTimeoutMs must be positive numbers',
    );
  }
}

/**
 * Throws `InvalidArgumentError` unless `delta` is `{ set?: [key, bytes][], delete?: key[] }` with string
 * keys and `Uint8Array` values. Its limits (sizes, key count) are the store's to check: they depend on
 * what the session already holds.
 */
export function checkDelta(delta: unknown): asserts delta is SessionDelta {
  if (delta === null || typeof delta !== 'object') throw new InvalidArgumentError('delta must be an object');
  const { set = [], delete: deletes = [] } = delta as { set?: unknown; delete?: unknown };
  if (!Array.isArray(set) || !Array.isArray(deletes)) {
    throw new InvalidArgumentError('delta.set and delta.delete must be arrays');
  }
  for (const key of deletes) checkKey(key);
  for (const entry of set) {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new InvalidArgumentError('delta.set entries must be [key, value] pairs');
    }
    const [key, value] = entry as [unknown, unknown];
    checkKey(key);
    if (!(value instanceof Uint8Array)) {
      throw new InvalidArgumentError(`the value of "${key}" must be encoded bytes (Uint8Array)`);
    }
  }
}

/** Throws `InvalidArgumentError` unless `userId` is a non-empty string of at most 256 characters. */
export function checkUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId === '' || userId.length > 256) {
    throw new InvalidArgumentError('a user id must be a non-empty string of at most 256 characters');
  }
  if (!storableText(userId)) {
    throw new InvalidArgumentError('a user id must not hold U+0000 or a lone surrogate');
  }
}

// In a /u pattern a well-formed pair is one code point, so only a lone surrogate has category Cs.
const NUL_OR_LONE_SURROGATE = /[\0\p{Cs}]/u;

/**
 * Whether every provider stores `text` as given. Redis and the shards keep user ids and labels as UTF-8, which
 * cannot encode a lone surrogate (it becomes U+FFFD): two user ids differing only there would be one user, and
 * one's sessionsOf/revokeUser would reach the other's sessions. PostgreSQL `text` holds no U+0000 at all.
 */
function storableText(text: string): boolean {
  return !NUL_OR_LONE_SURROGATE.test(text);
}

/** Throws `InvalidArgumentError` unless `handle` has the shape of a session handle (22 base64url characters). */
export function checkHandle(handle: unknown): asserts handle is string {
  if (typeof handle !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(handle)) {
    throw new InvalidArgumentError('a session handle must be 22 base64url characters');
  }
}

/** Throws `InvalidArgumentError` unless `label` is undefined or a string of at most 200 characters. */
export function checkLabel(label: unknown): asserts label is string | undefined {
  if (label !== undefined && (typeof label !== 'string' || label.length > 200)) {
    throw new InvalidArgumentError('a session label must be a string of at most 200 characters');
  }
  if (label !== undefined && !storableText(label)) {
    throw new InvalidArgumentError('a session label must not hold U+0000 or a lone surrogate');
  }
}
