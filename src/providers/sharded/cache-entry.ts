import type { SessionSnapshot } from '../provider.js';

// What a session the read cache (read-cache.ts) holds costs it, and the copy it holds.

/**
 * Bytes a cached session counts on top of its keys and values: the sid and the Map entry, the snapshot object
 * and its values Map. An estimate (as `maxShardBytes`'s is): 100,000 sessions of two small keys took 666 B of
 * heap each on Node 20, plus the 43-character sid string the cache keeps alive; counted, they make 722 B.
 */
export const CACHE_ENTRY_OVERHEAD_BYTES = 500;
/** Bytes each cached key counts on top of its UTF-8 length and its value's bytes (its Map slot, its view). */
export const CACHE_KEY_OVERHEAD_BYTES = 96;

/** A snapshot's bytes as counted against the budget. */
export function countedBytes(snapshot: SessionSnapshot): number {
  let bytes = CACHE_ENTRY_OVERHEAD_BYTES;
  for (const [key, value] of snapshot.values)
    bytes += key.length * 2 + value.byteLength + CACHE_KEY_OVERHEAD_BYTES;
  return bytes;
}

/**
 * The values copied into one buffer of their own: decoded ones are views into the whole answer frame, and a
 * commit's into whatever the caller encoded them in, which they would keep alive.
 */
export function ownedValues(values: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> {
  let valueBytes = 0;
  for (const value of values.values()) valueBytes += value.byteLength;
  const store = new Uint8Array(valueBytes);
  const owned = new Map<string, Uint8Array>();
  let at = 0;
  for (const [key, value] of values) {
    store.set(value, at);
    owned.set(key, store.subarray(at, at + value.byteLength));
    at += value.byteLength;
  }
  return owned;
}
