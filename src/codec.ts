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
  const small = decodeSmall(bytes);
  if (small !== NOT_SMALL) return small;
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new InvalidArgumentError(
      `not an encoded session value: ${(error as Error)?.message ?? String(error)}`,
    );
  }
}

const NOT_SMALL = Symbol('not small');
/** The longest string decoded without msgpackr. */
const SMALL_STRING = 16;

/**
 * The values most sessions hold, a small number, a flag or a short ASCII string, decoded without msgpackr:
 * `unpack` sets up its reader state on every call, which cost more than these few bytes take to read, and a
 * request decodes each key it reads. Exactly what msgpackr decodes them to (test/codec.test.ts compares); any
 * other bytes go to msgpackr.
 */
function decodeSmall(bytes: Uint8Array): unknown {
  const length = bytes.length;
  if (length === 0) return NOT_SMALL;
  const head = bytes[0] as number;
  if (length === 1) {
    if (head < 0x80) return head; // positive fixint
    if (head >= 0xe0) return head - 0x100; // negative fixint
    if (head === 0xc0) return null;
    if (head === 0xc2) return false;
    if (head === 0xc3) return true;
    return NOT_SMALL;
  }
  // fixstr of ASCII only: one byte per character.
  if (head < 0xa0 || head > 0xbf || head - 0xa0 !== length - 1 || length - 1 > SMALL_STRING) return NOT_SMALL;
  let text = '';
  for (let i = 1; i < length; i++) {
    const code = bytes[i] as number;
    if (code >= 0x80) return NOT_SMALL;
    text += String.fromCharCode(code);
  }
  return text;
}
