import { NotANumberError, SessionTooLargeError } from '../errors.js';
import { readNumber, writeNumber } from './number-codec.js';
import {
  HEAD_BYTES,
  MAX_KEY_BYTES,
  PROBATION_FLAG,
  type RecordTimes,
  scratchOf,
  storedKey,
  uint16At,
  uint32At,
  writeHead,
} from './packed-record.js';
import type { SessionDelta } from './provider.js';
import type { ResolvedLimits } from './provider-options.js';

/** Changes to a record's values by stored key (packed-record.ts): the new bytes, or undefined to delete. */
type Changes = Map<string, Uint8Array | undefined>;

/**
 * Applies a delta to a packed record all or nothing, giving it `times` (the slid idle deadline): every limit
 * is checked before anything is built. Returns the new record.
 */
export function applyDelta(
  packed: string,
  delta: SessionDelta,
  limits: ResolvedLimits,
  times: RecordTimes,
): string {
  const changes: Changes = new Map();
  for (const key of delta.delete ?? []) changes.set(storedKey(key), undefined);
  for (const [key, value] of delta.set ?? []) {
    if (value.byteLength > limits.maxValueBytes) {
      throw new SessionTooLargeError(
        `the value of "${key}" is ${value.byteLength} bytes, over the limit of ${limits.maxValueBytes}`,
      );
    }
    const stored = storedKey(key);
    if (stored.length > MAX_KEY_BYTES) {
      throw new SessionTooLargeError(
        `a key is at most ${MAX_KEY_BYTES} bytes (UTF-8), "${key.slice(0, 32)}…" is ${stored.length}`,
      );
    }
    changes.delete(stored); // re-inserted last: a key deleted and set in one delta ends set
    changes.set(stored, value);
  }
  const plan = planEdit(packed, changes);
  if (plan.keys > limits.maxKeys) {
    throw new SessionTooLargeError(
      `the session would hold ${plan.keys} keys, over the limit of ${limits.maxKeys}`,
    );
  }
  if (plan.bytes > limits.maxSessionBytes) {
    throw new SessionTooLargeError(
      `the session would be ${plan.bytes} bytes, over the limit of ${limits.maxSessionBytes}`,
    );
  }
  return buildEdit(packed, plan, changes, times);
}

/**
 * Adds `by` to the number under `key` (absent counts as 0); returns the new record and the sum. All or nothing,
 * like `applyDelta`: the type and every limit are checked before anything is built.
 */
export function applyIncr(
  packed: string,
  key: string,
  by: number,
  limits: ResolvedLimits,
  times: RecordTimes,
): { packed: string; value: number } {
  const stored = storedKey(key);
  const found = findValue(packed, stored);
  let before = 0;
  if (found) {
    const into = scratchOf(found.end - found.start);
    into.write(packed.substring(found.start, found.end), 0, 'latin1');
    const read = readNumber(into.subarray(0, found.end - found.start));
    if (read === undefined) throw new NotANumberError(`incr: the value under "${key}" is not a number`);
    before = read;
  }
  const value = before + by;
  const encoded = writeNumber(value);
  const changes: Changes = new Map([[stored, encoded]]);
  const plan = planEdit(packed, changes);
  // A number is at most 9 bytes, so only a new key can break a limit; check before changing anything.
  if (!found && plan.keys > limits.maxKeys) {
    throw new SessionTooLargeError(`incr: the session already holds ${plan.keys - 1} keys, the limit`);
  }
  if (
    plan.bytes > limits.maxSessionBytes ||
    encoded.byteLength > limits.maxValueBytes ||
    stored.length > MAX_KEY_BYTES
  ) {
    throw new SessionTooLargeError(`incr: the session would be over its size limit`);
  }
  return { packed: buildEdit(packed, plan, changes, times), value };
}

/** The byte range of the value stored under `stored`, if any. */
function findValue(packed: string, stored: string): { start: number; end: number } | undefined {
  for (let at = HEAD_BYTES; at < packed.length; ) {
    const keyLength = uint16At(packed, at);
    const keyEnd = at + 2 + keyLength;
    const end = keyEnd + 4 + uint32At(packed, keyEnd);
    if (keyLength === stored.length && packed.startsWith(stored, at + 2)) return { start: keyEnd + 4, end };
    at = end;
  }
  return undefined;
}

/** What an edit makes: the record's size, keys and counted bytes, and per old entry `[start, end, kept]`. */
interface Plan {
  size: number;
  keys: number;
  bytes: number;
  /** Old entries in order: start, end, and 1 to copy it / 0 if changed (its replacement goes in its place). */
  readonly entries: number[];
  /** Changed keys found in the record (the rest are new, appended). */
  readonly found: Set<string>;
}

function planEdit(packed: string, changes: Changes): Plan {
  const plan: Plan = { size: HEAD_BYTES, keys: 0, bytes: 0, entries: [], found: new Set() };
  for (let at = HEAD_BYTES; at < packed.length; ) {
    const keyLength = uint16At(packed, at);
    const keyEnd = at + 2 + keyLength;
    const valueLength = uint32At(packed, keyEnd);
    const end = keyEnd + 4 + valueLength;
    const key = changes.size === 0 ? undefined : packed.substring(at + 2, keyEnd);
    if (key !== undefined && changes.has(key)) {
      plan.found.add(key);
      plan.entries.push(at, end, 0);
      const value = changes.get(key);
      if (value) add(plan, keyLength, value.byteLength);
    } else {
      plan.entries.push(at, end, 1);
      add(plan, keyLength, valueLength);
    }
    at = end;
  }
  for (const [key, value] of changes)
    if (value && !plan.found.has(key)) add(plan, key.length, value.byteLength);
  return plan;
}

function add(plan: Plan, keyLength: number, valueLength: number): void {
  plan.size += 6 + keyLength + valueLength;
  plan.keys++;
  plan.bytes += keyLength + valueLength;
}

/** Builds the planned record: the old one is written after the new one's space in the scratch, and copied from. */
function buildEdit(packed: string, plan: Plan, changes: Changes, times: RecordTimes): string {
  const old = plan.size;
  const into = scratchOf(old + packed.length);
  into.write(packed, old, 'latin1');
  writeHead(into, 0, packed.charCodeAt(0) & PROBATION_FLAG, times);
  let at = HEAD_BYTES;
  const { entries } = plan;
  for (let i = 0; i < entries.length; i += 3) {
    const start = entries[i] as number;
    const end = entries[i + 1] as number;
    if (entries[i + 2] === 1) {
      into.copyWithin(at, old + start, old + end);
      at += end - start;
      continue;
    }
    const keyEnd = start + 2 + uint16At(packed, start);
    const value = changes.get(packed.substring(start + 2, keyEnd));
    if (value) at = writeEntry(into, at, packed.substring(start + 2, keyEnd), value);
  }
  for (const [key, value] of changes)
    if (value && !plan.found.has(key)) at = writeEntry(into, at, key, value);
  return into.toString('latin1', 0, at);
}

function writeEntry(into: Buffer, at: number, key: string, value: Uint8Array): number {
  into.writeUInt16LE(key.length, at);
  into.write(key, at + 2, 'latin1');
  at += 2 + key.length;
  into.writeUInt32LE(value.byteLength, at);
  into.set(value, at + 4);
  return at + 4 + value.byteLength;
}
