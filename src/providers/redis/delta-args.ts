import { SessionTooLargeError } from '../../errors.js';
import type { SessionDelta } from '../provider.js';
import type { ResolvedLimits } from '../provider-options.js';

/**
 * Deltas turned into the arguments of the Redis functions, with every limit that does not depend on what
 * the session already holds checked here, before anything is sent. The functions check the rest (the key
 * count and the byte total of a commit) against the stored session, atomically, before they write.
 */

/** A copy of the bytes as a Buffer: ioredis sends Buffers as they are, and the caller may reuse its array. */
const toBuffer = (value: Uint8Array): Buffer => Buffer.from(value);

function checkValue(key: string, value: Uint8Array, limits: ResolvedLimits): void {
  if (value.byteLength > limits.maxValueBytes) {
    throw new SessionTooLargeError(
      `the value of "${key}" is ${value.byteLength} bytes, over the limit of ${limits.maxValueBytes}`,
    );
  }
}

/**
 * The initial values of a new session as field/value pairs, and their size. Everything is checked here:
 * a new session holds nothing else. A key set twice keeps its last value.
 */
export function initialArgs(
  delta: SessionDelta | undefined,
  limits: ResolvedLimits,
): { pairs: (string | Buffer)[]; bytes: number } {
  const values = new Map<string, Uint8Array>();
  for (const [key, value] of delta?.set ?? []) {
    checkValue(key, value, limits);
    values.set(key, value);
  }
  if (values.size > limits.maxKeys) {
    throw new SessionTooLargeError(
      `the session would hold ${values.size} keys, over the limit of ${limits.maxKeys}`,
    );
  }
  let bytes = 0;
  const pairs: (string | Buffer)[] = [];
  for (const [key, value] of values) {
    bytes += Buffer.byteLength(key) + value.byteLength;
    pairs.push(key, toBuffer(value));
  }
  if (bytes > limits.maxSessionBytes) {
    throw new SessionTooLargeError(
      `the session would be ${bytes} bytes, over the limit of ${limits.maxSessionBytes}`,
    );
  }
  return { pairs, bytes };
}

/** A commit's deletes and sets, as the commit function takes them: count, deleted keys, then pairs. */
export function commitArgs(delta: SessionDelta, limits: ResolvedLimits): (string | Buffer)[] {
  const deletes = delta.delete ?? [];
  const args: (string | Buffer)[] = [String(deletes.length), ...deletes];
  for (const [key, value] of delta.set ?? []) {
    checkValue(key, value, limits);
    args.push(key, toBuffer(value));
  }
  return args;
}

/** A stored session's values as field/value pairs (for the copy a rename across slot groups puts). */
export function valuePairs(values: ReadonlyMap<string, Uint8Array>): (string | Buffer)[] {
  const pairs: (string | Buffer)[] = [];
  for (const [key, value] of values) pairs.push(key, toBuffer(value));
  return pairs;
}
