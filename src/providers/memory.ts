import { threadId } from 'node:worker_threads';
import { ClosedError } from '../errors.js';
import { GcTick } from './gc-tick.js';
import { DEFAULT_GC_INTERVAL_MS, DEFAULT_GC_SLICE_MS, integerOption, resolveLimits } from './limits.js';
import type {
  ProviderOptions,
  SessionDelta,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
} from './provider.js';
import { meta, SessionTable } from './session-table.js';

/**
 * The 'memory' provider: one in-process table. It is the reference semantics of the contract and the
 * choice for a single-threaded app. Unlike express-session's MemoryStore it does not leak: expired
 * sessions are swept by a GC tick from an expiry index, and refused on access before that.
 */
export class MemoryProvider implements SessionProvider {
  private readonly table: SessionTable;
  private readonly now: () => number;
  private readonly gcTick: GcTick;
  private calls = 0;
  private closed = false;

  constructor(options: ProviderOptions = {}) {
    this.table = new SessionTable(resolveLimits(options));
    this.now = options.now ?? Date.now;
    const intervalMs = integerOption('gcIntervalMs', options.gcIntervalMs, DEFAULT_GC_INTERVAL_MS, 0);
    const sliceMs = integerOption('gcSliceMs', options.gcSliceMs, DEFAULT_GC_SLICE_MS, 1);
    this.gcTick = new GcTick(this.table, this.now, intervalMs, sliceMs);
    this.gcTick.start();
  }

  async init(sid: string, policy: SessionPolicy, initial?: SessionDelta): Promise<SessionMeta> {
    this.enter();
    return this.table.init(sid, policy, initial, this.now());
  }

  async read(sid: string): Promise<SessionSnapshot | null> {
    this.enter();
    const record = this.table.read(sid, this.now());
    // A copy of the values: the caller keeps its snapshot for a whole request while others commit.
    return record ? { ...meta(record), values: new Map(record.values) } : null;
  }

  async commit(sid: string, delta: SessionDelta): Promise<SessionMeta | null> {
    this.enter();
    return this.table.commit(sid, delta, this.now());
  }

  async incr(sid: string, key: string, by: number): Promise<number | null> {
    this.enter();
    return this.table.incr(sid, key, by, this.now());
  }

  async rename(oldSid: string, newSid: string): Promise<SessionMeta | null> {
    this.enter();
    return this.table.rename(oldSid, newSid, this.now());
  }

  async destroy(sid: string): Promise<boolean> {
    this.enter();
    return this.table.destroy(sid, this.now());
  }

  async gc(now?: number): Promise<number> {
    this.enter();
    return this.table.sweep(now ?? this.now()).removed;
  }

  async count(): Promise<number> {
    this.enter();
    return this.table.count(this.now());
  }

  async stats(): Promise<ShardStats[]> {
    this.enter();
    const { ops, expired, evicted, gcSweeps, gcMaxSliceMs } = this.table.counters;
    return [
      {
        shard: 0,
        threadId,
        sessions: this.table.size,
        ops,
        batches: this.calls,
        queueDepth: 0,
        gcSweeps,
        gcMaxSliceMs,
        expired,
        evicted,
        heapUsedBytes: process.memoryUsage().heapUsed,
      },
    ];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.gcTick.stop();
  }

  private enter(): void {
    if (this.closed) throw new ClosedError();
    this.calls++;
  }
}

/** Builds a 'memory' provider. */
export function createMemoryProvider(options?: ProviderOptions): MemoryProvider {
  return new MemoryProvider(options);
}
