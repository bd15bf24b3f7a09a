import { Packr } from 'msgpackr';

// One codec for every session value, used in the main thread only (shards store the bytes and never decode
// them, except for `incr`). No shared record structures: each value's bytes describe themselves, so any
// thread or process can decode them later. structuredClone keeps Map, Set, Date, cycles and binary as
// they were; BigInt survives as BigInt. A `__proto__` key is renamed by msgpackr on decode, so stored
// data cannot pollute prototypes.
const packr = new Packr({ structuredClone: true, moreTypes: true, int64AsType: 'bigint' });

/**
 * Encodes one session value. The result is a fresh copy: msgpackr writes into a reused scratch buffer, and
 * a stored value must not alias it.
 */
export function encodeValue(value: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(packr.pack(value));
}

/** Decodes one session value encoded by {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
