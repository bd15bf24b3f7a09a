import type { ResourceLimits } from 'node:worker_threads';
import type { SessionEvent } from '../provider.js';
import type { ResolvedLimits } from '../provider-options.js';
import type { DurableSetup } from './durable/lmdb-options.js';

/** What a shard link (shard-link.ts) is built with: the shard's setup, its limits and its read cache. */
export interface ShardLinkOptions {
  readonly shard: number;
  readonly filename: string;
  readonly limits: ResolvedLimits;
  readonly gcIntervalMs: number;
  readonly gcSliceMs: number;
  /** Operations queued or in flight at once; past it, `OverloadedError` at once. */
  readonly maxQueuedOps: number;
  /** A frame is sent as soon as it holds this many operations, without waiting for the end of the turn. */
  readonly maxOpsPerFrame: number;
  readonly now: () => number;
  /** A frame unanswered for this long (real time, ms) means the thread is stuck: it is terminated and restarted. */
  readonly shardTimeoutMs: number;
  /** Heap limits of the shard's thread, passed to `new Worker`. */
  readonly resourceLimits: ResourceLimits | undefined;
  /** Shards in this provider (a durable shard loads the stored ids that hash to it). */
  readonly shards: number;
  /** With `dir`: where the shard's sessions persist. */
  readonly durable?: DurableSetup | undefined;
  /** Receives the shard's batches of events (bound sessions only), which arrive beside the answer frames. */
  readonly onEvents?: (events: readonly SessionEvent[]) => void;
  /** Bytes of this shard's hot sessions kept on the main thread to answer reads (read-cache.ts); 0: none. */
  readonly readCacheBytes: number;
}
