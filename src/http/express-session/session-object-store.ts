import { InvalidArgumentError, SessionExistsError } from '../../errors.js';
import { TOUCH_FRACTION } from '../../options.js';
import type { SessionDelta, SessionPolicy, SessionProvider } from '../../providers/provider.js';
import { RecentReads } from './recent-reads.js';
import { SessionIndex, WALK_CHUNK } from './session-index.js';
import {
  BUCKETS_PER_PRUNE_STEP,
  INDEX_BUCKETS,
  PRUNE_STEPS,
  type SessionKey,
  type StoreKeys,
} from './store-keys.js';
import {
  cookieAttributesOf,
  expiryOf,
  liveMeta,
  replaceDelta,
  type StoredMeta,
  sessionOf,
  touchDelta,
} from './stored-session.js';

/**
 * The provider's idle timeout is a session's lifetime plus this much: its deadline, slid by every commit, then
 * stays after express-session's own expiry (checked on every read) even when the clocks of the request and of
 * the provider's commit are a few ms apart, and a session is never moved to a longer policy by mistake.
 */
const EXPIRY_SLACK_MS = 1000;

/** No absolute timeout in express-session: a century, to stay a finite number for every provider. */
const NO_ABSOLUTE_TIMEOUT_MS = 100 * 365 * 86_400_000;

/** How many times `set` retries when a concurrent create or destroy of the same id got in between. */
const SET_ATTEMPTS = 3;

export interface SessionObjectStoreOptions {
  readonly provider: SessionProvider;
  readonly keys: StoreKeys;
  /** Lifetime of a session whose cookie sets no expiry. */
  readonly ttlMs: number;
  readonly now: () => number;
  /** Time between two prune steps (one index bucket each); 0: no timer. */
  readonly pruneIntervalMs: number;
}

/**
 * express-session's storage model — a whole session object per id, replaced by `set`, its expiry moved by
 * `touch` — on a provider, with promises. `store.ts` gives it express-session's callback interface.
 *
 * Expiry: express-session's (the cookie's `expires`, or `ttl`) is stored beside the data and checked on every
 * read; the provider's own deadline is the upper bound that frees the memory. A new session gets an idle
 * timeout of its lifetime (plus `EXPIRY_SLACK_MS`), which every `set` and `touch` slides, so with a fixed
 * `maxAge` both deadlines move together. A session whose lifetime grows past the provider's deadline ("remember
 * me" on an existing session) is moved to a longer policy (see `#extend`); one whose lifetime shrinks stays
 * until the provider's deadline, unseen by reads.
 *
 * A touch after a read writes only when it moves the expiry by more than `TOUCH_FRACTION` of the session's
 * lifetime: in a read-mostly load most requests then cost one store operation, not two (measured in the bench's
 * large-population: 185 → 129 µs of server CPU per request), and a session never ends earlier than 90% of its
 * lifetime after its last use.
 */
export class SessionObjectStore {
  readonly #provider: SessionProvider;
  readonly #keys: StoreKeys;
  readonly #index: SessionIndex;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #pruneTimer: NodeJS.Timeout | undefined;
  readonly #recentReads = new RecentReads();
  #pruneCursor = 0;
  #pruning = false;

  constructor(options: SessionObjectStoreOptions) {
    this.#provider = options.provider;
    this.#keys = options.keys;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now;
    this.#index = new SessionIndex(options.provider, options.keys);
    if (options.pruneIntervalMs > 0) {
      this.#pruneTimer = setInterval(this.#pruneStep, options.pruneIntervalMs);
      // Like MemoryStore, a store nobody closes must not keep the process alive.
      this.#pruneTimer.unref();
    }
  }

  /** The session stored under `id`, or undefined when there is none, it expired, or `id` is not an id. */
  async get(id: unknown): Promise<object | undefined> {
    const key = this.#keyOf(id);
    if (key === undefined) return undefined;
    const snapshot = await this.#provider.read(key.sid);
    const meta = snapshot ? liveMeta(snapshot, id as string, this.#now()) : undefined;
    if (snapshot === null || meta === undefined) return undefined;
    this.#recentReads.remember(key.sid, meta);
    return sessionOf(snapshot, meta);
  }

  /** Stores `session` under `id`, replacing the whole object in one commit. A session already expired is destroyed. */
  async set(id: unknown, session: unknown): Promise<void> {
    const key = this.#keys.session(id);
    const now = this.#now();
    const expiresAt = expiryOf(checkSession(session), now, this.#ttlMs);
    if (expiresAt <= now) return this.destroy(id);
    const replace = replaceDelta(id as string, session as object, expiresAt);
    this.#recentReads.forget(key.sid);
    for (let attempt = 1; ; attempt++) {
      const meta = await this.#provider.commit(key.sid, replace);
      if (meta) {
        if (meta.expiresAt < expiresAt) await this.#extend(key.sid, expiresAt);
        return;
      }
      try {
        return await this.#create(key, replace, expiresAt, now);
      } catch (error) {
        // Someone created it between our commit and our init: commit onto theirs.
        if (!(error instanceof SessionExistsError) || attempt >= SET_ATTEMPTS) throw error;
      }
    }
  }

  /**
   * Replaces the cookie and expiry of the session under `id` with `session`'s, without rewriting its data. Skips
   * the write when the `get` before it found the same cookie attributes and an expiry less than `TOUCH_FRACTION`
   * of the lifetime behind (a shorter expiry or a changed cookie is always written; without a `get` before it,
   * it reads the session and writes). Never creates a session, and never brings back one whose expiry passed.
   */
  async touch(id: unknown, session: unknown): Promise<void> {
    const key = this.#keys.session(id);
    const now = this.#now();
    const expiresAt = expiryOf(checkSession(session), now, this.#ttlMs);
    if (expiresAt <= now) return this.destroy(id);
    const read = this.#recentReads.take(key.sid);
    // Gone, or expired by express-session's rules (the provider keeps it a little longer): nothing to touch.
    if (read === undefined ? !(await this.#isLive(key.sid, id as string, now)) : read.expiresAt <= now)
      return;
    if (read !== undefined) {
      const slid = expiresAt - read.expiresAt;
      const unchanged = read.cookie === cookieAttributesOf(session as object);
      if (unchanged && slid >= 0 && slid <= (expiresAt - now) * TOUCH_FRACTION) return;
    }
    const meta = await this.#provider.commit(key.sid, touchDelta(id as string, session as object, expiresAt));
    if (meta && meta.expiresAt < expiresAt) await this.#extend(key.sid, expiresAt);
  }

  /** Deletes the session under `id` (nothing happens when there is none). */
  async destroy(id: unknown): Promise<void> {
    const key = this.#keys.session(id);
    await Promise.all([this.#provider.destroy(key.sid), this.#index.remove(key)]);
  }

  /** The ids of the live sessions. */
  async ids(): Promise<string[]> {
    const ids: string[] = [];
    const now = this.#now();
    await this.#index.walk((_sid, snapshot) => {
      const meta = snapshot ? liveMeta(snapshot, undefined, now) : undefined;
      if (meta) ids.push(meta.id);
    });
    return ids;
  }

  /** Every live session by id, in an object without a prototype (as MemoryStore answers). */
  async all(): Promise<Record<string, object>> {
    const sessions: Record<string, object> = Object.create(null);
    const now = this.#now();
    await this.#index.walk((_sid, snapshot) => {
      const meta = snapshot ? liveMeta(snapshot, undefined, now) : undefined;
      const session = snapshot && meta ? sessionOf(snapshot, meta) : undefined;
      if (session) sessions[(meta as StoredMeta).id] = session;
    });
    return sessions;
  }

  /** How many live sessions there are. */
  async length(): Promise<number> {
    return (await this.ids()).length;
  }

  /** Destroys every session the index lists. Sessions created meanwhile may survive. */
  async clear(): Promise<void> {
    for (let first = 0; first < INDEX_BUCKETS; first += WALK_CHUNK) {
      const lists = await this.#index.entriesOf(first, WALK_CHUNK);
      const sids = lists.flat();
      for (let from = 0; from < sids.length; from += WALK_CHUNK) {
        await Promise.all(sids.slice(from, from + WALK_CHUNK).map((sid) => this.#provider.destroy(sid)));
      }
      await Promise.all(lists.map((listed, i) => this.#index.removeAll(first + i, listed)));
    }
  }

  /** Removes from the index every session that is gone; resolves how many. The timer does it a step at a time. */
  async prune(): Promise<number> {
    let removed = 0;
    // A step's buckets at once: at most BUCKETS_PER_PRUNE_STEP × WALK_CHUNK reads in flight.
    for (let step = 0; step < PRUNE_STEPS; step++) {
      const counts = await Promise.all(this.#stepBuckets(step).map((bucket) => this.#index.prune(bucket)));
      for (const count of counts) removed += count;
    }
    return removed;
  }

  /** Stops the pruner and closes the provider. */
  async close(): Promise<void> {
    clearInterval(this.#pruneTimer);
    await this.#provider.close();
  }

  /** Whether a session no `get` read lately is there and unexpired: a touch must not bring one back. */
  async #isLive(sid: string, id: string, now: number): Promise<boolean> {
    const snapshot = await this.#provider.read(sid);
    return snapshot !== null && liveMeta(snapshot, id, now) !== undefined;
  }

  #keyOf(id: unknown): SessionKey | undefined {
    try {
      return this.#keys.session(id);
    } catch {
      return undefined; // not an id we could have stored: an unknown session, as for MemoryStore
    }
  }

  /**
   * Creates the session, then lists it in the index: listed only once the provider acknowledged it, so the
   * pruner never mistakes a session on its way for one that is gone. If listing fails, the session is
   * destroyed again: every session the store holds is one `all()` can find.
   */
  async #create(key: SessionKey, replace: SessionDelta, expiresAt: number, now: number): Promise<void> {
    await this.#provider.init(key.sid, policyUntil(expiresAt, now), replace);
    try {
      await this.#index.add(key);
    } catch (error) {
      await this.#provider.destroy(key.sid).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Gives a session a provider deadline no earlier than `expiresAt`. The contract cannot change a session's
   * policy (per-session timeouts come with issue 13), so the record is recreated under a longer one: its
   * values are read, then `destroy` and `init` leave in the same turn, back to back. In the ordered channel of
   * the memory and sharded providers nothing comes between them, so no reader ever finds the session missing;
   * a commit that lands between the read and the destroy is lost (rare: only a lifetime that grows does this).
   */
  async #extend(sid: string, expiresAt: number): Promise<void> {
    const snapshot = await this.#provider.read(sid);
    if (snapshot === null || snapshot.expiresAt >= expiresAt) return;
    const policy = policyUntil(expiresAt, this.#now());
    const values: SessionDelta = { set: [...snapshot.values] };
    await Promise.all([this.#provider.destroy(sid), this.#provider.init(sid, policy, values)]);
  }

  readonly #pruneStep = (): void => {
    if (this.#pruning) return;
    this.#pruning = true;
    const buckets = this.#stepBuckets(this.#pruneCursor);
    this.#pruneCursor = (this.#pruneCursor + 1) % PRUNE_STEPS;
    pruneInTurn(this.#index, buckets).then(
      () => (this.#pruning = false),
      // A failed step (the provider closed, overloaded, or briefly unreachable) loses nothing: the entries stay
      // listed and the next pass over these buckets removes them.
      () => (this.#pruning = false),
    );
  };

  /** The buckets of one prune step. */
  #stepBuckets(step: number): number[] {
    return Array.from({ length: BUCKETS_PER_PRUNE_STEP }, (_, i) => step * BUCKETS_PER_PRUNE_STEP + i);
  }
}

/** Prunes the buckets one after the other (the timer's step: its reads stay at `WALK_CHUNK` at once). */
async function pruneInTurn(index: SessionIndex, buckets: readonly number[]): Promise<void> {
  for (const bucket of buckets) await index.prune(bucket);
}

function policyUntil(expiresAt: number, now: number): SessionPolicy {
  return { idleTimeoutMs: expiresAt - now + EXPIRY_SLACK_MS, absoluteTimeoutMs: NO_ABSOLUTE_TIMEOUT_MS };
}

function checkSession(session: unknown): object {
  if (session === null || typeof session !== 'object') {
    throw new InvalidArgumentError('a session must be an object');
  }
  return session;
}
