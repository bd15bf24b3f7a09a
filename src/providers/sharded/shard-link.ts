import {
  ClosedError,
  errorFromCode,
  OverloadedError,
  SessionError,
  ShardUnavailableError,
} from '../../errors.js';
import type { SessionEvent, SessionSnapshot } from '../provider.js';
import type { ShardLinkOptions } from './link-options.js';
import { decodeFrame, encodeFrame, FAILED, Op, type WireOp } from './protocol.js';
import { ReadCache } from './read-cache.js';
import { ShardThread } from './shard-thread.js';
import { ShardWatchdog } from './shard-watchdog.js';

/** An operation waiting for its answer. */
interface Pending {
  readonly op: WireOp;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A frame sent and not yet answered. */
interface InFlight {
  readonly batch: Pending[];
  /** `performance.now()` when it was sent. */
  readonly sentAt: number;
}

/**
 * The main thread's side of one shard: its mailbox, its ordered channel and its thread. Operations that
 * arrive in one event-loop turn leave as one frame. The flush runs from `setImmediate`, i.e. after the
 * poll phase: node:http emits each request from its own callback and drains microtasks in between, so a
 * microtask flush would send one operation per frame under load, while `setImmediate` collects what the
 * whole I/O phase produced.
 */
export class ShardLink {
  /** The shard's current thread; undefined while a dead one is being replaced (frames wait meanwhile). */
  #thread: ShardThread | undefined;
  #mailbox: Pending[] = [];
  /** Frames sent and not yet answered, oldest first; answers come back in the same order. */
  readonly #inflight: InFlight[] = [];
  #inflightOps = 0;
  /** `performance.now()` when the last answer came: the watchdog counts from it (see shard-watchdog.ts). */
  #lastAnswerAt = 0;
  readonly #watchdog: ShardWatchdog;
  #flushScheduled = false;
  #closed = false;
  #drained: (() => void) | undefined;
  readonly #options: ShardLinkOptions;
  /** Sees every operation queued and every answer, in order; answers reads of hot sessions (read-cache.ts). */
  readonly #cache: ReadCache;

  constructor(options: ShardLinkOptions) {
    this.#options = options;
    this.#cache = new ReadCache(options.readCacheBytes, options.now, options.gcIntervalMs > 0);
    this.#watchdog = new ShardWatchdog(options.shard, options.shardTimeoutMs, {
      waitingSince: () => {
        const oldest = this.#inflight[0];
        return oldest && Math.max(oldest.sentAt, this.#lastAnswerAt);
      },
      thread: () => this.#thread,
      stuck: (thread, reason) => this.#onDeath(thread, reason),
    });
    this.#start();
  }

  /** The session's snapshot if this shard's read cache holds it alive; undefined: ask the shard. */
  cached(sid: string): SessionSnapshot | undefined {
    return this.#cache.get(sid);
  }

  /** The read cache's numbers, as `stats()` reports them. */
  get cacheStats(): { readCacheSessions: number; readCacheBytes: number; readCacheHits: number } {
    const cache = this.#cache;
    return { readCacheSessions: cache.size, readCacheBytes: cache.bytes, readCacheHits: cache.hits };
  }

  /** Operations queued or in flight. */
  get queueDepth(): number {
    return this.#mailbox.length + this.#inflightOps;
  }

  /**
   * Ends the shard's thread the way a crash would, and resolves once it has exited (for fault injection).
   * While a restart is under way there is no thread to end: it resolves at once.
   */
  async terminateThread(): Promise<void> {
    const thread = this.#thread;
    if (!thread) return;
    // From now on the shard's memory is not what the cache last saw (a memory shard restarts empty).
    this.#cache.clear();
    if (!this.#options.durable) return thread.crash();
    // A durable shard is told to exit between two frames: a thread terminated inside an LMDB write
    // transaction would leave LMDB's write lock taken, and every later write would wait forever.
    const exited = thread.exited();
    this.callPastLimit([Op.Exit]).catch(() => {});
    await exited;
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
    this.#cache.issued(op);
    return new Promise((resolve, reject) => {
      this.#mailbox.push({ op, resolve, reject });
      if (this.#mailbox.length >= this.#options.maxOpsPerFrame) this.#flush();
      else this.#scheduleTurnFlush();
    });
  }

  /**
   * Sends what is pending, waits for every answer, ends the thread. Bounded: a stuck shard is caught by the
   * watchdog within `shardTimeoutMs` (its operations reject), and ending the thread terminates it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Operations still waiting for a restarted thread will never be sent: they fail now.
    if (!this.#thread) this.#rejectMailbox(new ClosedError());
    else if (this.#options.durable) {
      // A durable shard must not be ended while it loads lmdb's native addon or holds a write transaction
      // (the first aborts the process, the second leaves LMDB's write lock taken): one answered round trip
      // shows it serving; once its port closes, it closes its store and exits by itself.
      await new Promise((resolve) => {
        this.#mailbox.push({ op: [Op.Stats], resolve, reject: resolve });
        this.#flush();
      });
    }
    this.#flush();
    if (this.#inflightOps > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#watchdog.stop();
    this.#cache.clear();
    const thread = this.#thread;
    this.#thread = undefined;
    await thread?.end(this.#options.durable !== undefined);
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
    const thread = this.#thread;
    if (batch.length === 0 || !thread) return; // a restart in progress sends them when done
    this.#mailbox = [];
    const stamp = this.#options.now();
    const frame: unknown[] = [stamp];
    for (const pending of batch) frame.push(pending.op);
    let buffer: ArrayBuffer;
    try {
      buffer = encodeFrame(frame);
    } catch (error) {
      // Arguments are checked before they are queued, so this is a bug; fail the batch, never the process.
      const failure = new SessionError('ERR_SHARD_INTERNAL', `could not encode a frame: ${String(error)}`);
      this.#fail(batch, failure);
      return;
    }
    if (this.#inflight.length === 0) {
      // Referenced only while an answer is awaited: an idle shard never keeps the process alive, a pending
      // operation always does (issue 11).
      thread.port.ref();
      this.#watchdog.arm();
    }
    this.#cache.sent(stamp);
    this.#inflight.push({ batch, sentAt: performance.now() });
    this.#inflightOps += batch.length;
    thread.port.postMessage(buffer, [buffer]);
  };

  readonly #onAnswer = (buffer: ArrayBuffer): void => {
    // An answer is a transferred ArrayBuffer; a batch of events is `{ events }` and answers nothing.
    const events = (buffer as { events?: readonly SessionEvent[] }).events;
    if (events !== undefined) {
      this.#options.onEvents?.(events);
      return;
    }
    const batch = this.#inflight.shift()?.batch;
    if (!batch) return;
    this.#lastAnswerAt = performance.now();
    this.#inflightOps -= batch.length;
    if (this.#inflight.length === 0) this.#thread?.port.unref();
    const answers = decodeFrame(buffer);
    const cache = this.#cache;
    for (let i = 0; i < batch.length; i++) {
      const pending = batch[i] as Pending;
      const value = answers[2 * i + 1];
      if (answers[2 * i] === FAILED) {
        cache.settled(pending.op);
        const [code, message] = value as [string, string];
        pending.reject(errorFromCode(code, message));
      } else pending.resolve(cache.answered(pending.op, value));
    }
    // Sessions the shard removed besides those named (evictions, expiry on access), after the answers were
    // filed and before anyone awaiting them runs: what this frame removed is never served afterwards.
    if (answers.length > 2 * batch.length) cache.removed(answers[answers.length - 1] as unknown[]);
    if (this.#inflightOps === 0) this.#drained?.();
    if (this.#mailbox.length > 0) this.#scheduleTurnFlush();
  };

  /** Starts (or restarts) the shard: a new generation of its thread. */
  #start(): void {
    const { shard, limits, gcIntervalMs, gcSliceMs, shards, durable, now } = this.#options;
    const reportRemovals = this.#options.readCacheBytes > 0;
    const setup = {
      shard,
      limits,
      gcIntervalMs,
      gcSliceMs,
      shards,
      startedAt: now(),
      durable,
      reportRemovals,
    };
    const options = { filename: this.#options.filename, resourceLimits: this.#options.resourceLimits, setup };
    const thread: ShardThread = new ShardThread(options, this.#onAnswer, (reason) =>
      this.#onDeath(thread, reason),
    );
    this.#thread = thread;
  }

  /**
   * The thread died or is stuck: every operation it held is rejected at once (nothing hangs), and a new shard
   * takes its place (empty, or with `dir` loaded from the files). Operations still in the mailbox were never
   * sent; they go to the new shard.
   */
  #onDeath(dead: ShardThread, reason: string): void {
    if (dead !== this.#thread) return;
    this.#thread = undefined;
    this.#watchdog.stop();
    this.#cache.clear();
    const lost = this.#inflight.splice(0);
    this.#inflightOps = 0;
    const error = new ShardUnavailableError(reason);
    for (const { batch } of lost) this.#fail(batch, error);
    // The old thread is ended (at once if stuck) before a new one starts: two generations never run at once.
    const ended = dead.end();
    if (this.#closed) {
      this.#drained?.();
      return;
    }
    // Until the new thread is up, nothing else may hold the process (the old thread was unref'd), and an
    // operation waiting in the mailbox must not see it exit under it.
    const holdProcess = setTimeout(() => {}, 2 ** 31 - 1);
    void ended.then(() => {
      clearTimeout(holdProcess);
      if (this.#closed) {
        this.#rejectMailbox(new ClosedError());
        return;
      }
      this.#start();
      if (this.#mailbox.length > 0) this.#scheduleTurnFlush();
    });
  }

  #rejectMailbox(error: Error): void {
    this.#fail(this.#mailbox.splice(0), error);
  }

  #fail(batch: readonly Pending[], error: Error): void {
    for (const pending of batch) {
      this.#cache.settled(pending.op);
      pending.reject(error);
    }
  }
}
