import { threadId } from 'node:worker_threads';
import type { ShardStats } from '../provider.js';
import type { GroupCounters } from './group-counters.js';
import type { KeyLayout } from './key-layout.js';
import type { RedisLink } from './redis-link.js';
import { decimal } from './session-meta.js';

/**
 * The questions asked of every slot group at once: how many sessions are alive (`count()`), and each
 * group's numbers (`stats()`). One command per group, from the deadline indexes: no key is scanned, and
 * on a Cluster the commands of each master leave as one pipeline.
 */

/** Sessions whose deadline is after `now`, in every group (ZCOUNT of each index). */
export async function countLive(
  link: RedisLink,
  layout: KeyLayout,
  groups: number,
  now: number,
): Promise<number> {
  const after = `(${decimal(now)}`;
  const counts = await Promise.all(
    Array.from({ length: groups }, (_, group) =>
      link.read((client) => client.zcount(layout.indexKey(group), after, '+inf')),
    ),
  );
  return counts.reduce((sum, n) => sum + Number(n), 0);
}

/** One stats entry per group: its index's size (expired but unswept included) and this process's counters. */
export async function groupStats(
  link: RedisLink,
  layout: KeyLayout,
  groups: readonly GroupCounters[],
): Promise<ShardStats[]> {
  const sizes = await Promise.all(
    groups.map((_, group) => link.read((client) => client.zcard(layout.indexKey(group)))),
  );
  const heapUsedBytes = process.memoryUsage().heapUsed;
  const queueDepth = link.queueDepth;
  return groups.map((counters, shard) => ({
    shard,
    threadId,
    sessions: Number(sizes[shard]),
    ops: counters.ops,
    batches: counters.batches,
    // The queue is the provider's, not a group's: it is reported once, on the first entry.
    queueDepth: shard === 0 ? queueDepth : 0,
    gcSweeps: counters.gcSweeps,
    gcMaxSliceMs: counters.gcMaxSliceMs,
    expired: counters.expired,
    evicted: counters.evicted,
    heapUsedBytes,
  }));
}
