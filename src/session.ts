/** The default shape of session data: any string key. Pass your own type to `createSessionManager<Data>`. */
export type SessionData = Record<string, unknown>;

/** The string keys of `Data`. */
export type SessionKey<Data> = keyof Data & string;

/** The keys of `Data` that can hold a number: what `incr` accepts. */
export type NumericKey<Data> = {
  [K in SessionKey<Data>]-?: number extends Data[K] ? K : never;
}[SessionKey<Data>];

/** Options of {@link Session.regenerate}. */
export interface RegenerateOptions {
  /** Keep the data under the new id (default true: the login defense against fixation). */
  keep?: boolean;
}

/** Options of {@link Session.setUser}. */
export interface SetUserOptions {
  /** A name for this device in the user's list (e.g. from the User-Agent), at most 200 characters. */
  label?: string;
}

/** A session's own timeouts ({@link Session.setTimeouts}), in ms or like `'30d'`; an omitted one keeps the manager's. */
export interface SessionTimeouts {
  idle?: number | string;
  absolute?: number | string;
}

/**
 * One request's view of a session: a snapshot read once at `start`, plus the keys this request changed.
 * `get`/`set`/`delete`/`has`/`keys` are synchronous on the snapshot; only the changed keys travel to the
 * store, as a delta, just before the response's headers go out (or at `save()`). `incr` runs at the store,
 * atomically. Sessions are made by `manager.start(req, res)`, never by hand.
 */
export interface Session<Data extends object = SessionData> {
  /** The session id. Never log it: whoever has it is logged in as this user. */
  readonly id: string;
  /** True when the session was created during this request (or regenerated without its data). */
  readonly isNew: boolean;
  /** True once `destroy()` ran: reads see nothing and writes throw `SessionDestroyedError`. */
  readonly destroyed: boolean;
  /**
   * When the session will die unless used again, in ms since the epoch: the earlier of the idle deadline
   * (moved to now + idle timeout once this request wrote or touched) and the absolute deadline.
   */
  readonly expiresAt: number;
  /** The value under `key` in this request's view, or undefined. Objects are copies: `set` them to save changes. */
  get<K extends SessionKey<Data>>(key: K): Data[K] | undefined;
  /** Whether `key` holds a value in this request's view. */
  has(key: SessionKey<Data>): boolean;
  /** The keys in this request's view. */
  keys(): SessionKey<Data>[];
  /**
   * Sets `key` to `value`. The value is encoded now (so later mutations of the object are not saved) and
   * sent with the other changes before the headers go out. Throws `SessionTooLargeError` when the encoded
   * value is over `maxValueBytes`, and `InvalidArgumentError` for a value that cannot be stored (a function,
   * a symbol). Concurrent requests that set different keys both keep their change.
   */
  set<K extends SessionKey<Data>>(key: K, value: Data[K]): void;
  /** Removes `key`. */
  delete(key: SessionKey<Data>): void;
  /**
   * Adds `by` (default 1) to the number under `key` atomically at the store and resolves the new number (a
   * missing key counts as 0). Use it for counters that must not lose updates under concurrent requests.
   * Rejects `NotANumberError` when the stored value is not a number.
   */
  incr(key: NumericKey<Data>, by?: number): Promise<number>;
  /**
   * Gives the session a new id and kills the old one at once (call it at login and privilege changes).
   * With `keep` (default true) the data moves to the new id; with `keep: false` the session starts empty.
   */
  regenerate(options?: RegenerateOptions): Promise<void>;
  /** Deletes the session from the store now; the response expires the cookie. */
  destroy(): Promise<void>;
  /** Asks for the idle deadline to slide (and the cookie to be re-sent) on this response even if nothing changed. */
  touch(): void;
  /**
   * Sends the pending changes now and waits until the store applied every write of this request. Rejects
   * with the first failure. Not needed for read-your-writes on the next request (the store's channel is
   * ordered); use it when you must know the change is stored before you answer.
   */
  save(): Promise<void>;
  /** The user this session is bound to (`setUser`), or undefined. */
  readonly userId: string | undefined;
  /**
   * The opaque handle naming this session in `manager.sessionsOf(userId)` (to mark "this device" and to exclude
   * it from `revokeUser`); undefined until the session is bound. It is not the session id and cannot be used as one.
   */
  readonly handle: string | undefined;
  /**
   * Binds the session to a user (call it at login, right after `regenerate()`): it is then listed by
   * `manager.sessionsOf(userId)` and ended by `manager.revoke`/`revokeUser`. Stores the session first if it
   * was not stored yet. The binding moves with `regenerate()` and ends with the session. Rejects
   * `UnsupportedError` when the provider lacks users.
   */
  setUser(userId: string, options?: SetUserOptions): Promise<void>;
  /**
   * Gives this session its own timeouts (remember-me), each at most the manager's `maxTimeouts`: the idle one
   * slides from now, the absolute one counts from the session's creation. The cookie's Max-Age follows on this
   * response. Throws `InvalidArgumentError` for a timeout that is not a positive duration or is over its maximum.
   */
  setTimeouts(timeouts: SessionTimeouts): Promise<void>;
  /** Stores `value` for the next request that calls `takeFlash(key)` (a one-time message). */
  flash(key: string, value: unknown): void;
  /** The value `flash(key, …)` stored, and removes it: a second call returns undefined. */
  takeFlash<T = unknown>(key: string): T | undefined;
  /** `href` carrying the session id in the URL transport's query parameter (unchanged when it is disabled). */
  url(href: string): string;
}
