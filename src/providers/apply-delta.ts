import { NotANumberError, SessionTooLargeError } from '../errors.js';
import { readNumber, writeNumber } from './number-codec.js';
import type { SessionDelta } from './provider.js';
import type { ResolvedLimits } from './provider-options.js';
import type { SessionRecord } from './session-record.js';

/** Applies a delta to a record all or nothing: every limit is checked before the record changes. */
export function applyDelta(record: SessionRecord, delta: SessionDelta, limits: ResolvedLimits): void {
  const sets = delta.set ?? [];
  const deletes = delta.delete ?? [];
  let bytes = record.bytes;
  let keys = record.values.size;
  // Work out sizes on a scratch view first, so a rejected delta leaves the record untouched.
  const changed = new Map<string, Uint8Array | undefined>();
  const current = (key: string) => (changed.has(key) ? changed.get(key) : record.values.get(key));
  for (const key of deletes) {
    const old = current(key);
    if (old !== undefined) {
      bytes -= Buffer.byteLength(key) + old.byteLength;
      keys--;
    }
    changed.set(key, undefined);
  }
  for (const [key, value] of sets) {
    if (value.byteLength > limits.maxValueBytes) {
      throw new SessionTooLargeError(
        `the value of "${key}" is ${value.byteLength} bytes, over the limit of ${limits.maxValueBytes}`,
      );
    }
    const old = current(key);
    if (old === undefined) keys++;
    else bytes -= Buffer.byteLength(key) + old.byteLength;
    bytes += Buffer.byteLength(key) + value.byteLength;
    changed.set(key, value);
  }
  if (keys > limits.maxKeys) {
    throw new SessionTooLargeError(
      `the session would hold ${keys} keys, over the limit of ${limits.maxKeys}`,
    );
  }
  if (bytes > limits.maxSessionBytes) {
    throw new SessionTooLargeError(
      `the session would be ${bytes} bytes, over the limit of ${limits.maxSessionBytes}`,
    );
  }
  for (const [key, value] of changed) {
    if (value === undefined) record.values.delete(key);
    // Copy out of the caller's (or the frame's) buffer: a stored value must not pin a whole frame.
    // (Uint8Array.prototype.slice: on a Buffer, .slice() is a view, not a copy.)
    else record.values.set(key, Uint8Array.prototype.slice.call(value));
  }
  record.bytes = bytes;
}

/**
 * Adds `by` to the number under `key` (absent counts as 0) and returns the sum. All or nothing, like
 * `applyDelta`: the type and every limit are checked before the record changes.
 */
export function applyIncr(record: SessionRecord, key: string, by: number, limits: ResolvedLimits): number {
  const current = record.values.get(key);
  const before = current === undefined ? 0 : readNumber(current);
  if (before === undefined) throw new NotANumberError(`incr: the value under "${key}" is not a number`);
  const after = before + by;
  const encoded = writeNumber(after);
  // A number is at most 9 bytes, so only a new key can break a limit; check before changing anything.
  const keyBytes = Buffer.byteLength(key);
  const bytes = record.bytes + encoded.byteLength - (current ? current.byteLength : -keyBytes);
  if (!current && record.values.size >= limits.maxKeys) {
    throw new SessionTooLargeError(`incr: the session already holds ${record.values.size} keys, the limit`);
  }
  if (bytes > limits.maxSessionBytes || encoded.byteLength > limits.maxValueBytes) {
    throw new SessionTooLargeError(`incr: the session would be over its size limit`);
  }
  record.values.set(key, encoded);
  record.bytes = bytes;
  return after;
}
