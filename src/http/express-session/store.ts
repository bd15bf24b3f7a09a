import session from 'express-session';
import type { SessionProvider } from '../../providers/provider.js';
import { SessionObjectStore } from './session-object-store.js';
import { resolveStoreOptions, type ShardSessionStoreOptions } from './store-options.js';

type SessionData = session.SessionData;
type Callback<T> = (error: unknown, value?: T) => void;

/**
 * An express-session store over shard-session's providers: `new ShardSessionStore()` keeps the sessions in the
 * 'sharded' provider's worker threads, off the main thread's heap, swept by their own GC. Any registered
 * provider works (`{ provider: 'memory' }`, and the durable and Redis ones as they land). It also serves as
 * @fastify/session's `store` (the same callback shape).
 *
 * ```js
 * app.use(session({ secret, resave: false, saveUninitialized: false, store: new ShardSessionStore() }));
 * ```
 *
 * Every method answers through its callback, on a later tick, and never throws: a failure is the callback's
 * first argument (a `SessionError`), a missing or expired session answers `undefined`, as MemoryStore does.
 * Called without a callback, a failure is emitted as `'error'` when someone listens, else as a process warning.
 */
export class ShardSessionStore extends session.Store {
  /** The provider holding the sessions (for `count()` and `stats()`). `close()` closes it. */
  readonly provider: SessionProvider;
  readonly #store: SessionObjectStore;

  /** Throws `InvalidOptionError` for a bad or unknown option. */
  constructor(options: ShardSessionStoreOptions = {}) {
    super();
    const resolved = resolveStoreOptions(options);
    this.provider = resolved.provider;
    this.#store = new SessionObjectStore(resolved);
  }

  /** The session stored under `sid`, or `undefined`. */
  override get(sid: string, callback: (error: unknown, session?: SessionData | null) => void): void {
    this.#answer<SessionData>(this.#store.get(sid) as Promise<SessionData | undefined>, callback);
  }

  /** Stores the whole session under `sid`, atomically: a concurrent `get` sees the old one or this one. */
  override set(sid: string, session: SessionData, callback?: (error?: unknown) => void): void {
    this.#done(() => this.#store.set(sid, session), callback);
  }

  /** Moves the session's expiry to `session.cookie`'s (or `ttl` from now) without rewriting its data. */
  override touch(sid: string, session: SessionData, callback?: (error?: unknown) => void): void {
    this.#done(() => this.#store.touch(sid, session), callback);
  }

  /** Deletes the session under `sid`. */
  override destroy(sid: string, callback?: (error?: unknown) => void): void {
    this.#done(() => this.#store.destroy(sid), callback);
  }

  /** Every live session, by id (an object without a prototype, as MemoryStore answers). Reads them all. */
  override all(callback: (error: unknown, sessions?: Record<string, SessionData> | null) => void): void {
    this.#answer(this.#store.all() as Promise<Record<string, SessionData>>, callback);
  }

  /** The ids of the live sessions (as connect-redis's `ids`). Reads them all. */
  ids(callback: (error: unknown, ids?: string[]) => void): void {
    this.#answer(this.#store.ids(), callback);
  }

  /** How many live sessions there are. Reads them all. */
  override length(callback: (error: unknown, length?: number) => void): void {
    this.#answer(this.#store.length(), callback);
  }

  /** Destroys every session of this store. */
  override clear(callback?: (error?: unknown) => void): void {
    this.#done(() => this.#store.clear(), callback);
  }

  /**
   * Removes from the store's index the sessions that are gone (expired, evicted); resolves how many. A timer
   * does this a little at a time (`pruneInterval`); call it yourself when the timer is off.
   */
  prune(): Promise<number> {
    return this.#store.prune();
  }

  /** Stops the pruner and closes the provider (for 'sharded': ends its threads). Later calls fail with `ClosedError`. */
  close(): Promise<void> {
    return this.#store.close();
  }

  #answer<T>(work: Promise<T | undefined>, callback: Callback<T> | undefined): void {
    // The callback runs on its own tick, outside the promise: if it throws, that is the caller's exception,
    // as with MemoryStore, not a rejection of ours, and it is never called twice.
    work.then(
      (value) => callback && process.nextTick(callback, null, value),
      (error: unknown) => (callback ? process.nextTick(callback, error) : this.#unobserved(error)),
    );
  }

  #done(work: () => Promise<void>, callback: ((error?: unknown) => void) | undefined): void {
    work().then(
      () => callback && process.nextTick(callback),
      (error: unknown) => (callback ? process.nextTick(callback, error) : this.#unobserved(error)),
    );
  }

  #unobserved(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error instanceof Error ? error : String(error), 'SessionStoreWarning');
  }
}
