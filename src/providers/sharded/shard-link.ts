import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  ClosedError,
  errorFromCode,
  OverloadedError,
  SessionError,
  ShardUnavailableError,
} from '../../errors.js';
import type { ResolvedLimits } from '../provider-options.js';
import type { DurableSetup } from './durable/lmdb-options.js';
import { decodeFrame, encodeFrame, FAILED, Op, type WireOp } from './protocol.js';
import type { ShardSetup } from './worker.js';

/** How long close waits for a durable shard to close its store before the thread is ended anyway. */
const TASK_END_WAIT_MS = 2000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** An operation waiting for its answer. */
interface Pending {
  readonly op: WireOp;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

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
  /** Shards in this provider (a durable shard loads the stored ids that hash to it). */
  readonly shards: number;
  /** With `dir`: where the shard's sessions persist. */
  readonly durable?: DurableSetup | undefined;
}

/**
 * The main thread's side of one shard: its mailbox, its ordered channel and its thread. Operations that
 * arrive in one event-loop turn leave as one frame. The flush runs from `setImmediate`, i.e. after the
 * poll phase: node:http emits each request from its own callback and drains microtasks in between, so a
 * microtask flush would send one operation per frame under load, while `setImmediate` collects what the
 * whole I/O phase produced.
 */
export class ShardLink {
  readonly #pool: Piscina;
  #port!: MessagePort;
  #mailbox: Pending[] = [];
  /** Frames sent and not yet answered, oldest first; answers come back in the same order. */
  readonly #inflight: Pending[][] = [];
  #inflightOps = 0;
  #flushScheduled = false;
  /** The thread's task (the shard's life): settles when the shard ends or dies. */
  #task: Promise<void> = Promise.resolve();
  #closed = false;
  #drained: (() => void) | undefined;
  readonly #options: ShardLinkOptions;

  constructor(options: ShardLinkOptions) {
    this.#options = options;
    // One pool of exactly one thread per shard: a shard's frames always reach the same thread, in order.
    // atomics 'disabled': piscina's default 'sync' parks an idle worker in Atomics.wait, which would freeze
    // the shard's event loop and with it the GC tick and the port.
    this.#pool = new Piscina({
      filename: options.filename,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      idleTimeout: Number.POSITIVE_INFINITY,
    });
    // Errors of a dead thread surface through the shard's task; the pool's own event must not crash us.
    this.#pool.on('error', () => {});
    this.#start();
  }

  /** Operations queued or in flight. */
  get queueDepth(): number {
    return this.#mailbox.length + this.#inflightOps;
  }

  /** The thread running this shard (for fault injection and diagnostics). */
  get thread() {
    return this.#pool.threads[0];
  }

  /** Queues an operation; it leaves with the rest of this turn's operations for the shard. */
  call(op: WireOp): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError());
    if (this.queueDepth >= this.#options.maxQueuedOps) {
      return Promise.reject(
        new OverloadedError(
          `session shard ${this.#options.shard} has ${this.queueDepth} queued operations (maxQueuedOps)`,
        ),
      );
    }
    return this.callPastLimit(op);
  }

  /**
   * Queues an operation even past `maxQueuedOps`. Only for giving back what this shard already handed out
   * (a record taken for a rename that failed): refusing it would lose the session.
   */
  callPastLimit(op: WireOp): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return new Promise((resolve, reject) => {
      this.#mailbox.push({ op, resolve, reject });
      if (this.#mailbox.length >= this.#options.maxOpsPerFrame) this.#flush();
      else this.#scheduleTurnFlush();
    });
  }

  /** Sends what is pending, waits for every answer, ends the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A durable shard must not be terminated while it loads lmdb's native addon or holds a write transaction
    // (the first aborts the process, the second leaves LMDB's write lock taken): one answered round trip
    // shows it serving, and after the port closes it ends its task by itself, its store closed.
    if (this.#options.durable) {
      await new Promise((resolve) => {
        this.#mailbox.push({ op: [Op.Stats], resolve, reject: resolve });
        this.#flush();
      });
    }
    this.#flush();
    if (this.#inflightOps > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#port.close();
    if (this.#options.durable) await Promise.race([this.#task, delay(TASK_END_WAIT_MS)]);
    await this.#pool.destroy();
  }

  #scheduleTurnFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flushTurn);
  }

  /**
   * The end-of-turn flush. While a frame is still out, it holds back: the operations wait for that answer
   * and leave with whatever else arrives meanwhile. Under load this makes frames larger and wake-ups of
   * the shard thread rarer (each postMessage that wakes an idle thread costs the main thread tens of µs
   * here); when the shard is idle, nothing waits.
   */
  readonly #flushTurn = (): void => {
    this.#flushScheduled = false;
    if (this.#inflight.length > 0) return; // onAnswer schedules the next turn flush
    this.#flush();
  };

  readonly #flush = (): void => {
    const batch = this.#mailbox;
    if (batch.length === 0) return;
    this.#mailbox = [];
    const frame: unknown[] = [this.#options.now()];
    for (const pending of batch) frame.push(pending.op);
    let buffer: ArrayBuffer;
    try {
      buffer = encodeFrame(frame);
    } catch (error) {
      // Arguments are checked before they are queued, so this is a bug; fail the batch, never the process.
      const failure = new SessionError('ERR_SHARD_INTERNAL', `could not encode a frame: ${String(error)}`);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.#inflight.push(batch);
    this.#inflightOps += batch.length;
    this.#port.postMessage(buffer, [buffer]);
  };

  readonly #onAnswer = (buffer: ArrayBuffer): void => {
    const batch = this.#inflight.shift();
    if (!batch) return;
    this.#inflightOps -= batch.length;
    const answers = decodeFrame(buffer);
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i] as Pending;
      const value = answers[2 * i + 1];
      if (answers[2 * i] === FAILED) {
        const [code, message] = value as [string, string];
        pending.reject(errorFromCode(code, message));
      } else pending.resolve(value);
    }
    if (this.#inflightOps === 0) this.#drained?.();
    if (this.#mailbox.length > 0) this.#scheduleTurnFlush();
  };

  /** Starts (or restarts) the thread: a fresh channel, handed over as piscina's one long task. */
  #start(): void {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', this.#onAnswer);
    const { shard, limits, gcIntervalMs, gcSliceMs, shards, durable, now } = this.#options;
    const setup: ShardSetup = {
      port: port2,
      shard,
      limits,
      gcIntervalMs,
      gcSliceMs,
      shards,
      startedAt: now(),
      ...(durable && { durable }),
    };
    this.#task = this.#pool.run(setup, { transferList: [port2] }).then(
      () => {},
      () => this.#onDeath(port1),
    );
  }

  /**
   * The thread died: every operation it held is rejected at once (nothing hangs), and a new shard takes its
   * place (empty, or with `dir` loaded from the files). Operations still in the mailbox were never sent; they go to the new shard.
   */
  #onDeath(deadPort: MessagePort): void {
    if (deadPort !== this.#port) return;
    deadPort.close();
    const lost = this.#inflight.splice(0);
    this.#inflightOps = 0;
    const error = new ShardUnavailableError(
      `session shard ${this.#options.shard} died; it is being restarted`,
    );
    for (const batch of lost) for (const pending of batch) pending.reject(error);
    if (this.#closed) {
      this.#drained?.();
      return;
    }
    this.#start();
    if (this.#mailbox.length > 0) this.#scheduleTurnFlush();
  }
}
