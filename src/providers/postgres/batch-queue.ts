import { createHash } from 'node:crypto';
import { ClosedError, StoreUnavailableError } from '../../errors.js';
import type { EventBatches } from '../event-batches.js';
import type { ResolvedLimits } from '../provider-options.js';
import { type BatchOp, batchOutcomes, batchParams, RESULT_TYPES } from './batch-codec.js';
import type { Connections } from './connections.js';
import { storeUnavailable } from './failures.js';
import { lockOrder } from './lock-order.js';
import type { SchemaNames } from './schema-names.js';

/** Numbers the provider reports in `stats()`. */
export interface PostgresCounters {
  ops: number;
  batches: number;
  expired: number;
  gcSweeps: number;
  gcMaxSliceMs: number;
}

/** An operation waiting for its answer. */
interface Pending {
  readonly op: BatchOp;
  /** Bytes of the values it sets: what a statement carries. */
  readonly bytes: number;
  /** `performance.now()` by which it must be answered. */
  readonly deadline: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export interface BatchQueueOptions {
  readonly connections: Connections;
  readonly names: SchemaNames;
  readonly limits: ResolvedLimits;
  readonly now: () => number;
  readonly operationTimeoutMs: number;
  readonly maxOpsPerStatement: number;
  /** Resolves once the schema is in place; called before every batch (it caches its own success). */
  readonly ready: (timeoutMs: number) => Promise<void>;
  readonly counters: PostgresCounters;
  /** Where the events of bound sessions that a batch began or ended go. */
  readonly events: EventBatches;
}

/** A statement carries at most this many bytes of values (a bigger single operation goes alone). */
const MAX_BYTES_PER_STATEMENT = 4 * 1024 * 1024;
/** How long a batch waits for a row lock another transaction holds before it fails. */
const LOCK_TIMEOUT_FRACTION = 0.5;

/**
 * The provider's ordered channel to the database: operations issued in one event-loop turn leave as one
 * call of `<table>_apply_v2` (one statement, one round trip, one transaction), and the next batch leaves
 * only when the previous one has answered. One batch at a time is what keeps the order: a commit issued
 * before a read of the same id is applied before it, even if nobody awaited the commit, although batches
 * may run on different connections of the pool. While a batch is out, new operations gather into the next
 * one, so batches grow with the load (the sharded router's "hold the flush while a frame is out").
 *
 * Every operation is answered within `operationTimeoutMs` of being issued: queued ones that wait longer
 * (behind a batch the database does not answer) reject `StoreUnavailableError` on their own timer.
 */
export class BatchQueue {
  readonly #options: BatchQueueOptions;
  readonly #statement: { name: string; text: string };
  #queue: Pending[] = [];
  #inflight = 0;
  #flushScheduled = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #issued = 0;
  #settled = 0;
  #waiters: { target: number; resolve: () => void }[] = [];

  constructor(options: BatchQueueOptions) {
    this.#options = options;
    const text = `SELECT op, status, created_at, idle_expires_at, absolute_expires_at, detail, expired, key, value,
    user_id, handle, label
  FROM ${options.names.fn('apply_v2')}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`;
    // A prepared statement per connection, under a short name: PostgreSQL cuts names at 63 bytes.
    const name = `shard_session_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
    this.#statement = { name, text };
  }

  /** Operations queued or in flight. */
  get depth(): number {
    return this.#queue.length + this.#inflight;
  }

  /** Queues an operation; it leaves with the rest of this turn's operations. */
  call(op: BatchOp, bytes = 0): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + this.#options.operationTimeoutMs;
      this.#queue.push({ op, bytes, deadline, resolve, reject });
      this.#issued++;
      this.#scheduleFlush();
      if (!this.#timer) this.#armTimer();
    });
  }

  /** Resolves once every operation issued so far has been answered. */
  drained(): Promise<void> {
    if (this.#settled === this.#issued) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ target: this.#issued, resolve }));
  }

  /** Refuses new operations, then sends what is queued and waits for every answer. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drained();
    if (this.#timer) clearTimeout(this.#timer);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inflight > 0) return;
    this.#flushScheduled = true;
    // After the poll phase, not in a microtask: node:http drains microtasks between requests, so a
    // microtask flush would send one request's operations per statement (see the sharded router).
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#inflight > 0 || this.#queue.length === 0) return;
    let count = 0;
    let bytes = 0;
    for (const pending of this.#queue) {
      if (
        count === this.#options.maxOpsPerStatement ||
        (count > 0 && bytes + pending.bytes > MAX_BYTES_PER_STATEMENT)
      ) {
        break;
      }
      count++;
      bytes += pending.bytes;
    }
    const batch = this.#queue.splice(0, count);
    this.#inflight = batch.length;
    void this.#send(batch).then(() => {
      this.#inflight = 0;
      this.#answered(batch.length);
      if (this.#queue.length > 0) this.#scheduleFlush();
    });
  };

  /** Runs one batch and settles every operation in it; never rejects. */
  async #send(batch: Pending[]): Promise<void> {
    const { connections, limits, now, counters } = this.#options;
    const deadline = (batch[0] as Pending).deadline;
    const timeLeft = () => Math.max(1, Math.ceil(deadline - performance.now()));
    try {
      await this.#options.ready(timeLeft());
      const order = lockOrder(batch.map((pending) => pending.op));
      const ops = order.map((i) => (batch[i] as Pending).op);
      const lockTimeoutMs = Math.max(1, Math.floor(this.#options.operationTimeoutMs * LOCK_TIMEOUT_FRACTION));
      const query = {
        ...this.#statement,
        values: batchParams(now(), ops, limits, lockTimeoutMs),
        types: RESULT_TYPES,
      };
      counters.batches++;
      counters.ops += ops.length;
      const { rows } = await connections.query(query, 'applying a batch', timeLeft());
      const { outcomes, expired, events } = batchOutcomes(ops, rows, limits);
      counters.expired += expired;
      this.#options.events.addAll(events);
      for (const [position, i] of order.entries()) {
        const pending = batch[i] as Pending;
        const outcome = outcomes[position];
        if (outcome?.error) pending.reject(outcome.error);
        else pending.resolve(outcome?.value);
      }
    } catch (error) {
      const failure = storeUnavailable(error, 'applying a batch');
      for (const pending of batch) pending.reject(failure);
    }
  }

  /** Rejects queued operations whose time is up, then waits for the next deadline. */
  #armTimer(): void {
    this.#timer = undefined;
    const head = this.#queue[0];
    if (!head) return;
    const wait = head.deadline - performance.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => this.#armTimer(), wait + 1);
      this.#timer.unref();
      return;
    }
    const at = performance.now();
    let late = 0;
    while (late < this.#queue.length && (this.#queue[late] as Pending).deadline <= at) late++;
    const expired = this.#queue.splice(0, late);
    const error = new StoreUnavailableError(
      `postgres: no answer within ${this.#options.operationTimeoutMs} ms (queued behind a batch the database has not answered)`,
    );
    for (const pending of expired) pending.reject(error);
    this.#answered(expired.length);
    this.#armTimer();
  }

  #answered(count: number): void {
    this.#settled += count;
    if (this.#waiters.length === 0) return;
    const waiting: { target: number; resolve: () => void }[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.target <= this.#settled) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }
}
