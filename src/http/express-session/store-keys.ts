import { createHmac, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.js';

/**
 * Buckets of the store's index (see `session-index.ts`): a session's bucket is fixed by its key. Listing a
 * session rewrites its bucket's record whole, so a bucket's size is what each new session costs: with 256
 * buckets, filling a store toward 1,000,000 sessions took 3 s of shard time per 10,000 new ones at 600,000
 * (each record ~100 KB); 4,096 keep a bucket near 250 entries (~11 KB) at a million. A power of two, so a
 * bucket is the low bits of the key's first two bytes.
 */
export const INDEX_BUCKETS = 4096;
/** Steps of one pass of the index pruner (the store's timer takes one per `pruneInterval`). */
export const PRUNE_STEPS = 256;
/** Buckets one prune step checks. */
export const BUCKETS_PER_PRUNE_STEP = INDEX_BUCKETS / PRUNE_STEPS;

/** The longest express-session id the store accepts: far above any `genid` in use, far below a header's size. */
export const MAX_SESSION_ID_LENGTH = 1024;

/** Where one express-session id lives in the provider. */
export interface SessionKey {
  /** The provider's id for the session: a keyed hash of the express-session id. */
  readonly sid: string;
  /** The index bucket that lists it. */
  readonly bucket: number;
}

/**
 * Maps express-session ids (whatever string `genid` returns) into the provider's id space of 43-character
 * base64url ids: HMAC-SHA256 under a per-store key. Nothing of the client's id reaches the provider as is:
 * distinct ids never collide (that would take a SHA-256 collision), and without the key nobody can choose an
 * id that lands on a given provider id or shard. 32 bytes of digest in base64url are exactly a canonical id
 * (`isValidSid`): the last character carries 4 bits and two zero bits.
 *
 * Every input is length-prefixed and tagged with its kind, so a session id, an index bucket and another
 * store's prefix can never produce the same input.
 */
export class StoreKeys {
  readonly #key: Buffer;
  readonly #prefix: string;

  /** `key` undefined: 32 random bytes, good for as long as the provider lives in this process. */
  constructor(prefix: string, key?: Uint8Array) {
    this.#key = key === undefined ? randomBytes(32) : Buffer.from(key);
    this.#prefix = `${prefix.length}:${prefix}`;
  }

  /** The provider id and index bucket of an express-session id. Throws `InvalidArgumentError` for a non-id. */
  session(id: unknown): SessionKey {
    if (typeof id !== 'string' || id === '' || id.length > MAX_SESSION_ID_LENGTH) {
      throw new InvalidArgumentError(
        `a session id must be a non-empty string of at most ${MAX_SESSION_ID_LENGTH} characters`,
      );
    }
    const digest = this.#digest('session', id);
    return { sid: digest.toString('base64url'), bucket: digest.readUInt16BE(0) % INDEX_BUCKETS };
  }

  /** The provider id of one index bucket's record. */
  bucket(bucket: number): string {
    return this.#digest('index', String(bucket)).toString('base64url');
  }

  #digest(kind: string, name: string): Buffer {
    return createHmac('sha256', this.#key).update(`${kind}:${this.#prefix}:${name}`).digest();
  }
}
