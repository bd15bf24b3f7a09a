import { threadId } from 'node:worker_threads';
import { ClosedError } from '../errors.js';
import {
  checkDelta,
  checkHandle,
  checkIncrAmount,
  checkKey,
  checkLabel,
  checkPolicy,
  checkSid,
  checkUserId,
} from './contract-checks.js';
import { GcTick } from './gc-tick.js';
import type {
  ProviderOptions,
  SessionBinding,
  SessionDelta,
  SessionEvent,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
  UserSessionInfo,
} from './provider.js';
import { resolveProviderOptions } from './provider-options.js';
import { snapshotOf } from './session-record.js';
import { SessionTable } from './session-table.js';
import { setSessionTimeouts } from './session-timeouts.js';

/** Options of the 'memory' provider: the ones every provider understands. */
export type MemoryProviderOptions = ProviderOptions;

/**
 * The 'memory' provider: one in-process table. It is the reference semantics of the contract and the
 * choice for a single-threaded app. Unlike express-session's MemoryStore it does not leak: expired
 * sessions are swept by a GC tick from an expiry index, and refused on access before that.
 */
export class MemoryProvider implements SessionProvider {
  readonly #table: SessionTable;
  readonly #now: () => number;
  readonly #gcTick: GcTick;
  readonly #gcSliceMs: number;
  #calls = 0;
  #closed = false;

  constructor(options: MemoryProviderOptions = {}) {
    const { limits, now, gcIntervalMs, gcSliceMs } = resolveProviderOptions('memory', options, [
      'maxShardBytes',
    ]);
    this.#table = new SessionTable(limits);
    this.#now = now;
    this.#gcSliceMs = gcSliceMs;
    this.#gcTick = new GcTick(this.#table, now, gcIntervalMs, gcSliceMs);
    this.#gcTick.start();
  }

  async init(sid: string, policy: SessionPolicy, initial?: SessionDelta): Promise<SessionMeta> {
    this.#enter();
    checkSid(sid);
    checkPolicy(policy);
    if (initial !== undefined) checkDelta(initial);
    return this.#table.init(sid, policy, initial, this.#now());
  }

  async read(sid: string): Promise<SessionSnapshot | null> {
    this.#enter();
    checkSid(sid);
    const packed = this.#table.read(sid, this.#now());
    // The values are decoded out of the packed record: the snapshot is the caller's for the whole request.
    return packed === undefined ? null : snapshotOf(packed, this.#table.extras(sid));
  }

  async commit(sid: string, delta: SessionDelta): Promise<SessionMeta | null> {
    this.#enter();
    checkSid(sid);
    checkDelta(delta);
    return this.#table.commit(sid, delta, this.#now());
  }

  async incr(sid: string, key: string, by: number): Promise<number | null> {
    this.#enter();
    checkSid(sid);
    checkKey(key);
    checkIncrAmount(by);
    return this.#table.incr(sid, key, by, this.#now());
  }

  async rename(oldSid: string, newSid: string): Promise<SessionMeta | null> {
    this.#enter();
    checkSid(oldSid);
    checkSid(newSid);
    return this.#table.rename(oldSid, newSid, this.#now());
  }

  async destroy(sid: string): Promise<boolean> {
    this.#enter();
    checkSid(sid);
    return this.#table.destroy(sid, this.#now());
  }

  async bindUser(sid: string, userId: string, label?: string): Promise<SessionBinding | null> {
    this.#enter();
    checkSid(sid);
    checkUserId(userId);
    checkLabel(label);
    return this.#table.users.bind(sid, userId, label, this.#now());
  }

  async sessionsOf(userId: string): Promise<UserSessionInfo[]> {
    this.#enter();
    checkUserId(userId);
    return this.#table.users.sessionsOf(userId, this.#now());
  }

  async revoke(userId: string, handle: string): Promise<boolean> {
    this.#enter();
    checkUserId(userId);
    checkHandle(handle);
    return this.#table.users.revoke(userId, handle, this.#now());
  }

  async revokeUser(userId: string, except?: string): Promise<number> {
    this.#enter();
    checkUserId(userId);
    if (except !== undefined) checkHandle(except);
    return this.#table.users.revokeUser(userId, except, this.#now());
  }

  async setTimeouts(sid: string, policy: SessionPolicy): Promise<SessionMeta | null> {
    this.#enter();
    checkSid(sid);
    checkPolicy(policy);
    return setSessionTimeouts(this.#table, sid, policy, this.#now());
  }

  /** Events are batched per event-loop turn (setImmediate), as the shards batch theirs. */
  onEvents(receiver: (events: readonly SessionEvent[]) => void): void {
    this.#table.users.onEvents(receiver);
  }

  /** Users with a bound session (diagnostics: the index must shrink back as sessions end). */
  get indexedUsers(): number {
    return this.#table.users.userCount;
  }

  /** Sweeps in slices of `gcSliceMs`, yielding to the event loop between them: the app's thread never stalls. */
  async gc(now?: number): Promise<number> {
    this.#enter();
    const at = now ?? this.#now();
    let total = 0;
    for (;;) {
      const { removed, done } = this.#table.sweep(at, this.#gcSliceMs);
      total += removed;
      if (done) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async count(): Promise<number> {
    this.#enter();
    return this.#table.count(this.#now());
  }

  async stats(): Promise<ShardStats[]> {
    this.#enter();
    const { ops, expired, evicted, gcSweeps, gcMaxSliceMs } = this.#table.counters;
    return [
      {
        shard: 0,
        threadId,
        sessions: this.#table.size,
        ops,
        batches: this.#calls,
        queueDepth: 0,
        gcSweeps,
        gcMaxSliceMs,
        expired,
        evicted,
        heapUsedBytes: process.memoryUsage().heapUsed,
        bytes: this.#table.bytes,
        maxBytes: this.#table.maxBytes,
      },
    ];
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#gcTick.stop();
  }

  #enter(): void {
    if (this.#closed) throw new ClosedError();
    this.#calls++;
  }
}

/** Builds a 'memory' provider. */
export function createMemoryProvider(options?: MemoryProviderOptions): MemoryProvider {
  return new MemoryProvider(options);
}
