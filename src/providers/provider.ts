/**
 * The storage contract: the classic design's Provider (SessionInit / SessionRead / SessionDestroy /
 * SessionGC) made asynchronous, delta-based and safe against session fixation.
 *
 * Values are opaque bytes here: the manager encodes each value once (msgpackr, see `codec.ts`) and a
 * provider stores the bytes per key without decoding them. The one exception is `incr`, which must read
 * a number to add to it.
 */

/** How long a session lives. Both are in milliseconds; a session is dead when either passes. */
export interface SessionPolicy {
  /** Sliding timeout: the session dies this long after its last commit or touch (the classic maxlifetime). */
  readonly idleTimeoutMs: number;
  /** Hard timeout from creation, never extended. */
  readonly absoluteTimeoutMs: number;
}

/** The timestamps of a live session, in ms since the epoch (of the provider's clock). */
export interface SessionMeta {
  readonly createdAt: number;
  /** When the idle timeout ends unless the session is committed or touched again. */
  readonly idleExpiresAt: number;
  /** When the absolute timeout ends. */
  readonly absoluteExpiresAt: number;
  /** `min(idleExpiresAt, absoluteExpiresAt)`: when the session dies. */
  readonly expiresAt: number;
}

/** What `read` returns: every key's encoded value, plus the session's timestamps. */
export interface SessionSnapshot extends SessionMeta {
  readonly values: ReadonlyMap<string, Uint8Array>;
  /** The session's own idle timeout when it differs from the policy it was created with (`setTimeouts`). */
  readonly idleTimeoutMs?: number;
  /** The user the session is bound to (`bindUser`), and its handle; absent when unbound. */
  readonly binding?: SessionBinding;
}

/** A session's tie to a user: who, and the opaque handle that names the session to that user's other devices. */
export interface SessionBinding {
  readonly userId: string;
  /** Random, 22 characters of base64url; never derived from the session id. */
  readonly handle: string;
  /** A free text the app gave at binding (a device name), at most 200 characters. */
  readonly label?: string;
}

/** One of a user's live sessions, as `sessionsOf` lists it. */
export interface UserSessionInfo {
  readonly handle: string;
  readonly createdAt: number;
  /** The last time the session slid its idle deadline (a commit or touch): within `touchAfter` of its last use. */
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly label?: string;
}

/** Why a user-bound session began or ended: what `manager.on(...)` listeners receive. */
export interface SessionEvent {
  readonly type: 'created' | 'destroyed' | 'expired' | 'evicted';
  readonly handle: string;
  /** Always set by the built-in providers (only bound sessions have events); optional for future unbound events. */
  readonly userId?: string;
  /**
   * 'login' (bound to a user), 'destroy' (destroyed by its id), 'revoke' (`revoke`/`revokeUser`), 'idle' or
   * 'absolute' (which timeout passed), 'capacity' (evicted under `maxSessions` or `maxShardBytes`).
   */
  readonly reason: 'login' | 'destroy' | 'revoke' | 'idle' | 'absolute' | 'capacity';
}

/**
 * The changes one request made: keys to set (with their encoded values) and keys to delete.
 * Only these keys are touched, so two requests that change different keys both keep their change.
 */
export interface SessionDelta {
  readonly set?: ReadonlyArray<readonly [key: string, value: Uint8Array]>;
  readonly delete?: readonly string[];
}

/** Live numbers of one provider's table (the memory provider) or of one shard. */
export interface ShardStats {
  /** Shard index; 0 for the memory provider. */
  readonly shard: number;
  /** The worker thread's id; the main thread's (0) for the memory provider. */
  readonly threadId: number;
  /** Live sessions held, including expired ones not yet swept. */
  readonly sessions: number;
  /** Operations applied. */
  readonly ops: number;
  /** Frames received; `ops / batches` is the batching really achieved. The memory provider counts calls. */
  readonly batches: number;
  /** Operations sent to the shard and not yet answered. */
  readonly queueDepth: number;
  /** GC slices run (each sweeps expired sessions for at most the configured budget). */
  readonly gcSweeps: number;
  /** The longest GC slice so far, in ms. */
  readonly gcMaxSliceMs: number;
  /** Sessions removed because they expired (by GC or on access). */
  readonly expired: number;
  /** Sessions removed to make room under `maxSessions`. */
  readonly evicted: number;
  /** `process.memoryUsage().heapUsed` of the thread that owns the sessions. */
  readonly heapUsedBytes: number;
  /** Bytes held as counted against `maxShardBytes` ('memory' and 'sharded' only). */
  readonly bytes?: number;
  /** The byte budget in force, `maxShardBytes` or its default ('memory' and 'sharded' only). */
  readonly maxBytes?: number;
  /** ('sharded') Sessions held by the main thread's read cache of this shard (see `readCacheBytes`). */
  readonly readCacheSessions?: number;
  /** ('sharded') Bytes held by that cache, as counted against `readCacheBytes`. */
  readonly readCacheBytes?: number;
  /** ('sharded') Reads that cache answered without asking the shard. */
  readonly readCacheHits?: number;
}

/**
 * The storage contract every provider implements. Every method checks its arguments (`isValidSid` ids,
 * non-empty string keys, deltas of `Uint8Array` values, finite increments) and answers a bad one with a
 * rejected promise of a typed error, never a synchronous throw. `shard-session/testing` holds the suite
 * that checks a provider against this contract.
 */
export interface SessionProvider {
  /** Creates a session with optional initial values. Rejects `SessionExistsError` if a live one has the id. */
  init(sid: string, policy: SessionPolicy, initial?: SessionDelta): Promise<SessionMeta>;
  /** The session's snapshot, or null if it does not exist or has expired. Never creates one. */
  read(sid: string): Promise<SessionSnapshot | null>;
  /**
   * Merges the delta and slides the idle deadline (an empty delta only slides it: a touch).
   * Resolves null when the session no longer exists: the change is dropped, never resurrected.
   */
  commit(sid: string, delta: SessionDelta): Promise<SessionMeta | null>;
  /**
   * Adds `by` to the number under `key` (a missing key counts as 0) at the owner, atomically, and slides the
   * idle deadline. Resolves the new number, or null when the session does not exist.
   * Rejects `NotANumberError` if the stored value is not a number.
   */
  incr(sid: string, key: string, by: number): Promise<number | null>;
  /**
   * Moves a session to a new id in one step (regenerate at login): the old id is dead once this resolves.
   * Resolves null when the old session does not exist; rejects `SessionExistsError` if the new id is taken.
   */
  rename(oldSid: string, newSid: string): Promise<SessionMeta | null>;
  /** Deletes the session. Resolves whether it existed. */
  destroy(sid: string): Promise<boolean>;
  /** Sweeps every session expired at `now` (default: the provider's clock). Resolves how many it removed. */
  gc(now?: number): Promise<number>;
  /** Live (unexpired) sessions: the classic "online users". */
  count(): Promise<number>;
  /** Per-shard numbers; one entry for the memory provider. */
  stats(): Promise<ShardStats[]>;
  /** Flushes pending work, stops GC ticks, releases threads. Later calls reject with `ClosedError`. */
  close(): Promise<void>;

  // Optional capabilities (issue 13). A provider has all of a group or none; the contract suite checks the ones
  // it has and skips those it declares under `lacks` ('users', 'timeouts', 'events').

  /**
   * ('users') Binds the session to `userId` (a rebinding to another user moves it; to the same user keeps the
   * handle). Resolves the binding, or null when the session does not exist. The binding moves with `rename`
   * and ends with the session.
   */
  bindUser?(sid: string, userId: string, label?: string): Promise<SessionBinding | null>;
  /** ('users') The user's live sessions, from an index (never a scan of every session). */
  sessionsOf?(userId: string): Promise<UserSessionInfo[]>;
  /** ('users') Destroys the user's session named by `handle`. Resolves whether it existed. */
  revoke?(userId: string, handle: string): Promise<boolean>;
  /**
   * ('users') Destroys every session bound to `userId` when this is applied, but the one named by `except`.
   * Resolves how many. A session whose binding is applied after it (a racing login) survives.
   */
  revokeUser?(userId: string, except?: string): Promise<number>;
  /**
   * ('timeouts') Gives the session its own timeouts: the idle deadline slides to now + idle, the absolute one
   * becomes createdAt + absolute. Resolves the new meta, or null when the session does not exist.
   */
  setTimeouts?(sid: string, policy: SessionPolicy): Promise<SessionMeta | null>;
  /**
   * ('events') Registers the one receiver of the provider's events (bound sessions only), delivered in
   * batches: expiry and eviction come from the GC ticks (for 'sharded', one message per shard per batch).
   */
  onEvents?(receiver: (events: readonly SessionEvent[]) => void): void;
}

/** Limits every provider enforces. Each has a default; see `resolveLimits`. */
export interface SessionLimits {
  /** Bytes of one encoded value. Default 64 KiB. */
  readonly maxValueBytes?: number;
  /** Bytes of one session (keys + encoded values). Default 1 MiB. */
  readonly maxSessionBytes?: number;
  /** Keys in one session. Default 1,000. */
  readonly maxKeys?: number;
  /**
   * Live sessions per table (memory) or per shard (sharded). Past it, one is evicted: an expired one if any,
   * else the oldest never read since its creation (probation), else the one closest to expiry. Default 4,000,000.
   */
  readonly maxSessions?: number;
  /**
   * Bytes of sessions per table (memory) or per shard (sharded; the whole store holds `maxShardBytes ×
   * shards`), counted as keys + values + a fixed estimate of each session's and each key's overhead. Past
   * it, sessions are evicted by the `maxSessions` rule. Default: half the heap limit of the thread that owns
   * the table (for a shard, of its worker: see the 'sharded' provider's `resourceLimits`). Only 'memory' and
   * 'sharded' enforce it; 'redis' and 'postgres' refuse it as an unknown option.
   */
  readonly maxShardBytes?: number;
}

/** Options every provider understands. */
export interface ProviderOptions extends SessionLimits {
  /** The clock, in ms since the epoch. Tests pass a controllable one. Default `Date.now`. */
  readonly now?: () => number;
  /** How often the GC tick runs, in ms. 0 disables the tick (sweep with `gc()`). Default 1,000. */
  readonly gcIntervalMs?: number;
  /** Time budget of one GC slice, in ms; the sweep yields to other work between slices. Default 2. */
  readonly gcSliceMs?: number;
}

/**
 * Builds a provider from its options: what `register` takes. It validates them (an unknown name included)
 * and throws `InvalidOptionError` for a bad one.
 */
export type ProviderFactory<Options extends ProviderOptions = ProviderOptions> = (
  options?: Options,
) => SessionProvider;
