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
