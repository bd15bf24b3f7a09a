/**
 * The transported values whose signature was verified lately, each with the id it carries: a client sends the
 * same signed cookie on every request, and an HMAC-SHA256 per request was the largest single cost of the
 * session layer (two Hmac objects, a key import and a digest: ~16 % of shard-session's CPU at a paced 6,000
 * req/s, the memory provider, measured with the bench's cost scenario). A value found here is the exact string
 * that verified before against the same secrets (they never change for a manager's life), so it needs no second
 * check. Only values that verified are kept: a client that sends forged values fills nothing.
 *
 * Bounded: two generations of at most `generationSize` values each. A value is added to the young one; when
 * it is full, it becomes the old one and the previous old one is dropped whole. A value found in the old
 * generation is copied to the young one while the young one has room, so the values in use stay. Neither a
 * full scan nor a per-hit reordering (a true LRU's delete + set) is ever paid.
 *
 * A hit never turns the generations over: only a value that verified anew does. When a hit in the old generation
 * moved the value whatever the young one held (as it once did), clients that come round in turn, more of them than one generation holds (the
 * read-modify-write bench: 10,000 sessions, each cookie sent once per round), emptied the old generation just
 * before its values came round again: 99.98 % of lookups missed, an HMAC per request. Now every one of up to
 * two generations' worth of such clients is found from its second request on; the price is that a value in use
 * that sits in the old generation while the young one is full is verified once more after the next turnover
 * (one HMAC per value per `generationSize` new values).
 */
export class VerifiedValues {
  readonly #generationSize: number;
  #young = new Map<string, string>();
  #old = new Map<string, string>();

  constructor(generationSize: number) {
    this.#generationSize = generationSize;
  }

  /** Values held (at most twice the generation size). */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** The id `value` carries, if `value` verified lately. */
  get(value: string): string | undefined {
    const young = this.#young.get(value);
    if (young !== undefined) return young;
    const old = this.#old.get(value);
    if (old !== undefined && this.#young.size < this.#generationSize) this.#young.set(value, old);
    return old;
  }

  /** Remembers that `value` verified and carries `sid`, a prefix of it (what cookie-signature's unsign returns). */
  add(value: string, sid: string): void {
    if (!value.startsWith(sid)) return;
    // The value is often a slice of the whole Cookie header (V8 keeps a slice as a pointer into its parent
    // string): it is copied flat, so that an entry never keeps a request's headers alive. A value the copy
    // would not reproduce exactly (a lone surrogate) is not kept: the key must be the very string that verified.
    const flat = Buffer.from(value, 'utf8').toString('utf8');
    if (flat !== value) return;
    // The id is copied flat too, not sliced out of the value: it is the key of every store lookup of the
    // client's later requests, and a Map finds a sliced key in ~130 ns against ~55 for a flat one (10,000 ids).
    const ownSid = Buffer.from(sid, 'latin1').toString('latin1');
    if (ownSid !== sid) return;
    this.#addYoung(flat, ownSid);
  }

  #addYoung(value: string, sid: string): void {
    if (this.#young.size >= this.#generationSize) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(value, sid);
  }
}
