import { Packr } from 'msgpackr';
import { InvalidArgumentError } from './errors.js';

// One codec for every session value, used in the main thread only (shards store the bytes and never decode
// them, except for `incr`). No shared record structures: each value's bytes describe themselves, so any
// thread or process can decode them later. structuredClone keeps Map, Set, Date, cycles and binary as
// they were; BigInt survives as BigInt. A `__proto__` key is renamed by msgpackr on decode, so stored
// data cannot pollute prototypes. A function anywhere in a value is refused (msgpackr would silently store
// it as undefined), as structuredClone refuses it.
const packr = new Packr({
  structuredClone: true,
  moreTypes: true,
  int64AsType: 'bigint',
  writeFunction: () => {
    throw new InvalidArgumentError('a session value cannot hold a function');
  },
});

/**
 * Encodes one session value. The result is a fresh copy: msgpackr writes into a reused scratch buffer, and
 * a stored value must not alias it. Throws `InvalidArgumentError` for what cannot be stored (a function,
 * a symbol).
 */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return Uint8Array.prototype.slice.call(packr.pack(value));
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(
      `a session value cannot be encoded: ${(error as Error)?.message ?? String(error)}`,
    );
  }
}

/** Decodes one session value encoded by {@link encodeValue}. Throws `InvalidArgumentError` for bytes that are not one. */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new InvalidArgumentError(
      `not an encoded session value: ${(error as Error)?.message ?? String(error)}`,
    );
  }
}
