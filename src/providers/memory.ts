import { threadId } from 'node:worker_threads';
import { ClosedError } from '../errors.js';
import { checkDelta, checkIncrAmount, checkKey, checkPolicy, checkSid } from './contract-checks.js';
import { GcTick } from './gc-tick.js';
import type {
  ProviderOptions,
  SessionDelta,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
} from './provider.js';
import { resolveProviderOptions } from './provider-options.js';
import { meta } from './session-record.js';
import { SessionTable } from './session-table.js';

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
    const record = this.#table.read(sid, this.#now());
    // A copy of the values: the caller keeps its snapshot for a whole request while others commit.
    return record ? { ...meta(record), values: new Map(record.values) } : null;
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
