import { type StoredMeta, storedCookieAttributes } from './stored-session.js';

/** Sessions whose read a `get` remembers for the `touch` that follows in the same request. */
export const RECENT_READS = 10_000;

/** What a `get` read of a session, for the `touch` that follows it. */
export interface RecentRead {
  readonly expiresAt: number;
  /** Its cookie's attributes but the expiry (`cookieAttributesOf`). */
  readonly cookie: string;
}

/**
 * Provider id → the stored expiry and cookie attributes of sessions just read: what lets a touch skip a write
 * it does not need, and tells it that a session it would touch has expired. Bounded by the requests in
 * flight, not by the population: past {@link RECENT_READS}, the oldest read is forgotten (its touch then reads
 * the session again and writes).
 */
export class RecentReads {
  readonly #reads = new Map<string, RecentRead>();

  remember(sid: string, meta: StoredMeta): void {
    this.#reads.delete(sid);
    this.#reads.set(sid, { expiresAt: meta.expiresAt, cookie: storedCookieAttributes(meta) });
    if (this.#reads.size > RECENT_READS) this.#reads.delete(this.#reads.keys().next().value as string);
  }

  /** The read of `sid`, forgotten as it is taken (a touch uses it once). */
  take(sid: string): RecentRead | undefined {
    const read = this.#reads.get(sid);
    this.#reads.delete(sid);
    return read;
  }

  forget(sid: string): void {
    this.#reads.delete(sid);
  }
}
