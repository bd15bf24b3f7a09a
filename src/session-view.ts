import { decodeValue, encodeValue } from './codec.js';

/** Stands for the bytes of a value this request knows decoded only (an `incr`'s answer): encoded on demand. */
const LOCAL = Symbol('decoded only');
type Stored = Uint8Array | typeof LOCAL;
const NO_VALUES: ReadonlyMap<string, Stored> = new Map();

/**
 * One request's view of a session's keys: the snapshot's encoded values, with this request's changes on top.
 * The snapshot's map itself is used (never changed: a provider may share it between requests) until the first
 * change, then copied once: a read-only request copies nothing. Values are decoded on first `get` only (most
 * requests read few keys) and kept decoded. It used to copy every key into an entry object per request.
 */
export class SessionView {
  #values: ReadonlyMap<string, Stored>;
  #own = false;
  /** Values decoded by `get`, set or incremented in this request. */
  #decoded: Map<string, unknown> | undefined;

  constructor(values: ReadonlyMap<string, Stored> = NO_VALUES) {
    this.#values = values;
  }

  get(key: string): unknown {
    const decoded = this.#decoded;
    if (decoded !== undefined) {
      const value = decoded.get(key);
      if (value !== undefined || decoded.has(key)) return value;
    }
    const bytes = this.#values.get(key);
    if (bytes === undefined || bytes === LOCAL) return undefined;
    const value = decodeValue(bytes);
    this.#decodedValues().set(key, value);
    return value;
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  keys(): IterableIterator<string> {
    return this.#values.keys();
  }

  /** `key` now holds `value`, encoded as `bytes`. */
  set(key: string, value: unknown, bytes: Uint8Array): void {
    this.#ownValues().set(key, bytes);
    this.#decodedValues().set(key, value);
  }

  /** `key` now holds `value`, whose bytes are made only if asked for (`encoded`). */
  setDecoded(key: string, value: unknown): void {
    this.#ownValues().set(key, LOCAL);
    this.#decodedValues().set(key, value);
  }

  delete(key: string): void {
    this.#ownValues().delete(key);
    this.#decoded?.delete(key);
  }

  clear(): void {
    this.#values = NO_VALUES;
    this.#own = false;
    this.#decoded = undefined;
  }

  /** Every key with its encoded value (what a new session made from this view must hold). */
  *encoded(): IterableIterator<[string, Uint8Array]> {
    for (const [key, bytes] of this.#values) {
      yield [key, bytes === LOCAL ? encodeValue(this.#decoded?.get(key)) : bytes];
    }
  }

  #ownValues(): Map<string, Stored> {
    if (!this.#own) {
      this.#values = new Map(this.#values);
      this.#own = true;
    }
    return this.#values as Map<string, Stored>;
  }

  #decodedValues(): Map<string, unknown> {
    if (this.#decoded === undefined) this.#decoded = new Map();
    return this.#decoded;
  }
}
