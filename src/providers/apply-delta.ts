import { NotANumberError, SessionTooLargeError } from '../errors.js';
import { readNumber, writeNumber } from './number-codec.js';
import {
  bodyStart,
  entryBounds,
  entryBytes,
  MAX_KEY_BYTES,
  packedString,
  readEntry,
  readInto,
  setIdleExpiresAt,
  storedKey,
  writeEntry,
} from './packed-record.js';
import type { SessionDelta } from './provider.js';
import type { ResolvedLimits } from './provider-options.js';

/**
 * Changes to a record's values: stored keys (packed-record.ts) and their new bytes, undefined to delete. Kept
 * as two arrays, not a Map: a delta has a key or two, and each old entry is matched with `startsWith` on the
 * record (no substring per key); past `MAP_FROM` changes a Map by key takes over.
 */
interface Changes {
  readonly keys: string[];
  readonly values: (Uint8Array | undefined)[];
  byKey: Map<string, number> | undefined;
}
const MAP_FROM = 16;

function changeAt(changes: Changes, packed: string, at: number, length: number): number {
  if (changes.byKey) return changes.byKey.get(packed.substring(at, at + length)) ?? -1;
  const { keys } = changes;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key.length === length && packed.startsWith(key, at)) return i;
  }
  return -1;
}

function change(changes: Changes, key: string, value: Uint8Array | undefined): void {
  const { keys, values } = changes;
  const at = changes.byKey ? (changes.byKey.get(key) ?? -1) : keys.indexOf(key);
  if (at >= 0) {
    // Set after a delete of the same key (or twice): the last word wins, in the key's place of first mention.
    values[at] = value;
    return;
  }
  keys.push(key);
  values.push(value);
  if (changes.byKey) changes.byKey.set(key, keys.length - 1);
  else if (keys.length > MAP_FROM) changes.byKey = new Map(keys.map((k, i) => [k, i]));
}

/**
 * Applies a delta to a packed record all or nothing, sliding its idle deadline to `idleExpiresAt`: every limit
 * is checked before anything is built. Returns the new record.
 */
export function applyDelta(
  packed: string,
  delta: SessionDelta,
  limits: ResolvedLimits,
  idleExpiresAt: number,
): string {
  const changes: Changes = { keys: [], values: [], byKey: undefined };
  for (const key of delta.delete ?? []) change(changes, storedKey(key), undefined);
  for (const [key, value] of delta.set ?? []) {
    if (value.byteLength > limits.maxValueBytes) {
      throw new SessionTooLargeError(
        `the value of "${key}" is ${value.byteLength} bytes, over the limit of ${limits.maxValueBytes}`,
      );
    }
    const stored = storedKey(key);
    if (stored.length > MAX_KEY_BYTES) {
      throw new SessionTooLargeError(
        `a key is at most ${MAX_KEY_BYTES} bytes (UTF-8); "${key.slice(0, 32)}…" is ${stored.length}`,
      );
    }
    change(changes, stored, value);
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
  return buildEdit(packed, plan, changes, idleExpiresAt);
}

// MessagePack numbers are at most 9 bytes: a value is read through one of these views (no allocation).
const numberBytes = new Uint8Array(9);
const numberViews = Array.from({ length: 10 }, (_, n) => numberBytes.subarray(0, n));

/**
 * Adds `by` to the number under `key` (absent counts as 0); returns the new record and the sum. All or nothing,
 * like `applyDelta`: the type and every limit are checked before anything is built. The common case, a counter
 * whose encoding keeps its length, patches a copy of the record in place.
 */
export function applyIncr(
  packed: string,
  key: string,
  by: number,
  limits: ResolvedLimits,
  idleExpiresAt: number,
): { packed: string; value: number } {
  const stored = storedKey(key);
  const found = findEntry(packed, stored);
  const start = found ? found.valueStart : -1;
  let before = 0;
  let length = 0;
  if (found) {
    length = found.end - found.valueStart;
    const bytes = numberViews[length];
    if (bytes) for (let i = 0; i < length; i++) bytes[i] = packed.charCodeAt(start + i);
    const read = bytes && readNumber(bytes);
    if (read === undefined) throw new NotANumberError(`incr: the value under "${key}" is not a number`);
    before = read;
  }
  const value = before + by;
  const encoded = writeNumber(value);
  if (start >= 0 && encoded.byteLength === length) {
    const into = readInto(packed);
    into.set(encoded, start);
    setIdleExpiresAt(into, idleExpiresAt);
    return { packed: packedString(into, packed.length), value };
  }
  const changes: Changes = { keys: [stored], values: [encoded], byKey: undefined };
  const plan = planEdit(packed, changes);
  // A number is at most 9 bytes, so only a new key can break a limit; check before changing anything.
  if (start < 0 && plan.keys > limits.maxKeys) {
    throw new SessionTooLargeError(`incr: the session already holds ${plan.keys - 1} keys, the limit`);
  }
  if (
    plan.bytes > limits.maxSessionBytes ||
    encoded.byteLength > limits.maxValueBytes ||
    stored.length > MAX_KEY_BYTES
  ) {
    throw new SessionTooLargeError(`incr: the session would be over its size limit`);
  }
  return { packed: buildEdit(packed, plan, changes, idleExpiresAt), value };
}

// One EntryBounds for this module's walks (none calls out while it walks).
const walk = entryBounds();

/** The bounds of the entry stored under `stored` (this module's shared object: read it at once), or undefined. */
function findEntry(packed: string, stored: string): typeof walk | undefined {
  for (let at = bodyStart(packed); at < packed.length; at = walk.end) {
    readEntry(packed, at, walk);
    if (walk.keyEnd - walk.keyStart === stored.length && packed.startsWith(stored, walk.keyStart))
      return walk;
  }
  return undefined;
}

/** What an edit makes: the record's size, keys and counted bytes, and per old entry what becomes of it. */
interface Plan {
  /** The record's head (kept as it is but for the idle deadline): where its keys start. */
  readonly head: number;
  size: number;
  keys: number;
  bytes: number;
  /** Per old entry: its start, its end, and the index of its change, or -1 to copy it as it is. */
  readonly entries: number[];
  /** Per change: whether its key was found in the record (the others are new, appended). */
  readonly found: boolean[];
}

function planEdit(packed: string, changes: Changes): Plan {
  const found = changes.keys.map(() => false);
  const head = bodyStart(packed);
  const plan: Plan = { head, size: head, keys: 0, bytes: 0, entries: [], found };
  for (let at = head; at < packed.length; at = walk.end) {
    const { keyStart, keyEnd, valueStart, end } = readEntry(packed, at, walk);
    const keyLength = keyEnd - keyStart;
    const index = changeAt(changes, packed, keyStart, keyLength);
    plan.entries.push(at, end, index);
    if (index < 0) add(plan, keyLength, end - valueStart);
    else {
      found[index] = true;
      const value = changes.values[index];
      if (value) add(plan, keyLength, value.byteLength);
    }
  }
  for (let i = 0; i < found.length; i++) {
    const value = changes.values[i];
    if (value && !found[i]) add(plan, (changes.keys[i] as string).length, value.byteLength);
  }
  return plan;
}

function add(plan: Plan, keyLength: number, valueLength: number): void {
  plan.size += entryBytes(keyLength, valueLength);
  plan.keys++;
  plan.bytes += keyLength + valueLength;
}

/** Builds the planned record: the old one is read in after the new one's space in the scratch, and copied from. */
function buildEdit(packed: string, plan: Plan, changes: Changes, idleExpiresAt: number): string {
  const old = plan.size;
  const into = readInto(packed, old);
  into.copyWithin(0, old, old + plan.head);
  setIdleExpiresAt(into, idleExpiresAt);
  let at = plan.head;
  const { entries } = plan;
  for (let i = 0; i < entries.length; i += 3) {
    const start = entries[i] as number;
    const end = entries[i + 1] as number;
    const index = entries[i + 2] as number;
    if (index < 0) {
      into.copyWithin(at, old + start, old + end);
      at += end - start;
      continue;
    }
    const value = changes.values[index];
    if (value) at = writeEntry(into, at, changes.keys[index] as string, value);
  }
  for (let i = 0; i < plan.found.length; i++) {
    const value = changes.values[i];
    if (value && !plan.found[i]) at = writeEntry(into, at, changes.keys[i] as string, value);
  }
  return packedString(into, at);
}
