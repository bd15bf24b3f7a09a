import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { InvalidOptionError } from '../../errors.js';
import type { ProviderOptions } from '../provider.js';
import { integerOption, resolveProviderOptions } from '../provider-options.js';
import type { DurableSetup } from './durable/lmdb-options.js';

/**
 * A shard thread's young generation, in MB, when `resourceLimits` does not say. V8 sizes it for a main thread
 * (48 MB on this project's 64-bit machines) and grows it to that whenever much of what it allocates survives:
 * filling a shard with sessions does, and the pages stay committed after, as RSS, in every shard. A shard's
 * own garbage is small and short-lived (frames, decoded values). Measured (issue 8, 1,000,000 sessions of two
 * keys, 1 shard): RSS per session 243 B at 48 MB, 207 B at 16 MB, 200 B at 6 MB; 16 MB cost no CPU per
 * operation we could see and ~3% of a shard's top throughput in an in-process A/B (6 MB: more, and noisier).
 */
export const SHARD_YOUNG_GENERATION_MB = 16;

/** Options of the 'sharded' provider. */
export interface ShardedProviderOptions extends ProviderOptions {
  /** Worker threads, each owning a slice of the id space. Default `max(1, availableParallelism() - 1)`. */
  readonly shards?: number;
  /** Operations queued or in flight per shard; past it, calls reject with `OverloadedError`. Default 65,536. */
  readonly maxQueuedOps?: number;
  /**
   * A frame leaves early once it holds this many operations. Default 32: a burst of operations then
   * reaches the shard in several frames, so the shard starts on the first while the main thread is still
   * producing the next, instead of the two threads taking turns (measured: 2x the throughput at depth 64).
   */
  readonly maxOpsPerFrame?: number;
  /**
   * The watchdog's deadline, in ms of real time (not the `now` clock): a shard whose oldest unanswered frame
   * is older than this is declared stuck (an endless loop, a lost frame), its thread is terminated and
   * restarted empty, and its pending operations reject with `ShardUnavailableError`. It also bounds how
   * long `close()` waits for a shard. Default 5,000; it must exceed the longest legitimate frame.
   */
  readonly shardTimeoutMs?: number;
  /**
   * Heap limits of each shard's thread (`new Worker`'s `resourceLimits`). Default: Node's, but for a young
   * generation of `SHARD_YOUNG_GENERATION_MB` (16) unless `maxYoungGenerationSizeMb` is given. Keep
   * `maxShardBytes` well below `maxOldGenerationSizeMb`, or the thread dies out of memory with its sessions.
   */
  readonly resourceLimits?: ResourceLimits;
  /**
   * Keeps the sessions in LMDB files in this directory (created if missing), so they survive a restart or a
   * crash of the process. Without it the sessions live in the shards' memory only. One process per `dir`: a
   * second is refused with `StorageError` (`ERR_STORAGE_LOCKED`). See docs/durable.md.
   */
  readonly dir?: string;
  /**
   * With `dir`: acknowledge a write only once it is flushed to the disk, so it survives a power loss too, not
   * only a crash of the process. Costs a disk flush per frame of operations. Default false.
   */
  readonly fsync?: boolean;
  /**
   * With `dir`: most bytes the sessions may take in the file. At it, operations that add data (init, incr,
   * commit with values) reject with `StorageError` (`ERR_STORAGE_FULL`); reads, destroy and expiry go on.
   * Checked every 50 ms, so it may be passed by what is written meanwhile. Default 0: no limit but the disk.
   */
  readonly mapSize?: number;
  /**
   * Bytes of hot sessions the main thread keeps, in all (each shard gets an equal share), to answer their reads
   * without a round trip to the shard's thread. Exactly coherent: every operation on a session goes through
   * this process's main thread, which drops the copy as it sends a change (see docs/engine.md). Counted as
   * keys + values + an estimate of each session's and key's overhead; a session over half a shard's share is not
   * kept. Default 16 MiB; 0 turns the cache off. Not with `dir` (must be 0 or unset there).
   */
  readonly readCacheBytes?: number;
}

export const DEFAULT_MAX_QUEUED_OPS = 65_536;
export const DEFAULT_MAX_OPS_PER_FRAME = 32;
export const DEFAULT_SHARD_TIMEOUT_MS = 5000;
export const DEFAULT_READ_CACHE_BYTES = 16 * 1024 * 1024;
/** More shards than this only adds threads fighting over the same cores. */
const MAX_SHARDS = 256;
const OWN_OPTION_NAMES = [
  'shards',
  'maxQueuedOps',
  'maxOpsPerFrame',
  'shardTimeoutMs',
  'resourceLimits',
  'maxShardBytes',
  'dir',
  'fsync',
  'mapSize',
  'readCacheBytes',
];

/** The default shard count: every core but one, which stays with the main thread. */
export function defaultShardCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** The durable options, checked; undefined without `dir`. */
function durableSetup(options: ShardedProviderOptions): DurableSetup | undefined {
  const { dir, fsync, mapSize } = options;
  if (dir === undefined) {
    if (fsync !== undefined || mapSize !== undefined) {
      throw new InvalidOptionError('fsync and mapSize need dir (the directory of the session files)');
    }
    return undefined;
  }
  if (typeof dir !== 'string' || dir === '') throw new InvalidOptionError('dir must be a non-empty string');
  if (fsync !== undefined && typeof fsync !== 'boolean') {
    throw new InvalidOptionError(`fsync must be a boolean, got ${String(fsync)}`);
  }
  return { dir, fsync: fsync ?? false, mapSize: integerOption('mapSize', mapSize, 0, 0) };
}

/** Every option of a 'sharded' provider, checked once, with its default filled in. */
export function resolveShardedOptions(options: ShardedProviderOptions) {
  const { limits, now, gcIntervalMs, gcSliceMs } = resolveProviderOptions(
    'sharded',
    options,
    OWN_OPTION_NAMES,
  );
  const shards = integerOption('shards', options.shards, defaultShardCount(), 1, MAX_SHARDS);
  const maxQueuedOps = integerOption('maxQueuedOps', options.maxQueuedOps, DEFAULT_MAX_QUEUED_OPS, 1);
  const maxOpsPerFrame = integerOption(
    'maxOpsPerFrame',
    options.maxOpsPerFrame,
    DEFAULT_MAX_OPS_PER_FRAME,
    1,
  );
  const shardTimeoutMs = integerOption(
    'shardTimeoutMs',
    options.shardTimeoutMs,
    DEFAULT_SHARD_TIMEOUT_MS,
    1,
    2_147_483_647,
  );
  const givenLimits = options.resourceLimits;
  if (givenLimits !== undefined && (givenLimits === null || typeof givenLimits !== 'object')) {
    throw new InvalidOptionError('resourceLimits must be an object (worker_threads ResourceLimits)');
  }
  const resourceLimits = { maxYoungGenerationSizeMb: SHARD_YOUNG_GENERATION_MB, ...givenLimits };
  const durable = durableSetup(options);
  const readCacheBytes = integerOption(
    'readCacheBytes',
    options.readCacheBytes,
    durable ? 0 : DEFAULT_READ_CACHE_BYTES,
    0,
  );
  if (durable && readCacheBytes > 0) {
    // A durable shard reloads sessions from its files behind the router's back: not cached (yet).
    throw new InvalidOptionError('readCacheBytes cannot be used with dir (a durable shard is not cached)');
  }
  return {
    limits,
    now,
    gcIntervalMs,
    gcSliceMs,
    shards,
    maxQueuedOps,
    maxOpsPerFrame,
    shardTimeoutMs,
    resourceLimits,
    durable,
    readCacheBytes,
  };
}
