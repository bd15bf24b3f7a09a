import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';
import type { SessionTable } from '../session-table.js';

/** A shard's numbers, in the order `ShardedProvider.stats()` reads them. */
export function statsOf(table: SessionTable, frames: number): number[] {
  const { ops, expired, evicted, gcSweeps, gcMaxSliceMs } = table.counters;
  // Per isolate: this thread's heap, not the process's.
  const heap = getHeapStatistics().used_heap_size;
  const { size, bytes, maxBytes } = table;
  return [threadId, size, ops, frames, gcSweeps, gcMaxSliceMs, expired, evicted, heap, bytes, maxBytes];
}
