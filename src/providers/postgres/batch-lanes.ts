import { ClosedError, OverloadedError } from '../../errors.js';
import { shardOf } from '../sharded/shard-hash.js';
import type { BatchOp } from './batch-codec.js';
import { BatchQueue, type BatchQueueOptions } from './batch-queue.js';

/**
 * Several batch queues side by side, each with one statement out at a time on a connection of its own. An id
 * always goes to the same lane (the sharded provider's hash of the id), so a session's operations keep their
 * order, while sessions of different lanes are served by different server processes of PostgreSQL at once:
 * their work (and their WAL flushes) overlap instead of queueing behind one statement. A rename goes with its
 * old id; as with the sharded provider, operations on the new id wait for the rename to resolve (the session
 * layer does).
 */
export class BatchLanes {
  readonly #lanes: BatchQueue[];
  readonly #maxQueuedOps: number;
  #closed = false;

  constructor(count: number, options: Omit<BatchQueueOptions, 'maxQueuedOps'>, maxQueuedOps: number) {
    this.#lanes = Array.from({ length: count }, () => new BatchQueue(options));
    this.#maxQueuedOps = maxQueuedOps;
  }

  /** Operations queued or in flight, over every lane. */
  get depth(): number {
    let depth = 0;
    for (const lane of this.#lanes) depth += lane.depth;
    return depth;
  }

  call(op: BatchOp, bytes = 0): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError());
    const depth = this.depth;
    if (depth >= this.#maxQueuedOps) {
      return Promise.reject(
        new OverloadedError(`the 'postgres' provider has ${depth} queued operations (maxQueuedOps)`),
      );
    }
    return (this.#lanes[shardOf(op.sid, this.#lanes.length)] as BatchQueue).call(op, bytes);
  }

  /** Resolves once every operation issued so far, in every lane, has been answered. */
  async drained(): Promise<void> {
    await Promise.all(this.#lanes.map((lane) => lane.drained()));
  }

  /** Refuses new operations, then answers every one issued before. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#lanes.map((lane) => lane.close()));
  }
}
