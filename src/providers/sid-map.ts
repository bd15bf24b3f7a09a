// The base64url value (0-63) of each character code, so a session id's character picks a partition evenly.
const BASE64URL_VALUE = new Uint8Array(128);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
for (let i = 0; i < ALPHABET.length; i++) BASE64URL_VALUE[ALPHABET.charCodeAt(i)] = i;

const PARTITIONS = 64;

/**
 * A Map from session id to value, split into 64 Maps by one character of the id. One big Map is rehashed
 * as a whole when it grows or shrinks past a threshold: at a million sessions that is a pause of tens of
 * milliseconds in the middle of a GC slice or a request. Split 64 ways, each rehash is 64 times smaller.
 * Ids are random, so the partitions fill evenly; keys must be valid session ids (checked by the caller).
 */
export class SidMap<V> {
  readonly #partitions: Map<string, V>[] = Array.from({ length: PARTITIONS }, () => new Map());
  #count = 0;

  get size(): number {
    return this.#count;
  }

  get(sid: string): V | undefined {
    return this.#partition(sid).get(sid);
  }

  set(sid: string, value: V): void {
    const partition = this.#partition(sid);
    const before = partition.size;
    partition.set(sid, value);
    this.#count += partition.size - before;
  }

  delete(sid: string): boolean {
    const deleted = this.#partition(sid).delete(sid);
    if (deleted) this.#count--;
    return deleted;
  }

  #partition(sid: string): Map<string, V> {
    // Stored ids are made by generateSid from random bytes, so any one character is as even as a hash.
    return this.#partitions[BASE64URL_VALUE[sid.charCodeAt(1) & 127] as number] as Map<string, V>;
  }
}
