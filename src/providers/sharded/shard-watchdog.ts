import type { ShardThread } from './shard-thread.js';

/** How much longer than `shardTimeoutMs` a thread that is still starting may take to answer. */
const STARTUP_ALLOWANCE_MS = 5000;

/** What the watchdog looks at: since when the link's shard owes an answer, and its current thread. */
export interface WatchedLink {
  /**
   * `performance.now()` since when the shard owes its next answer: the later of when the oldest unanswered
   * frame was sent and when the last answer came (frames sent together wait behind each other: a shard that
   * keeps answering is busy, not stuck); undefined when no frame is out.
   */
  waitingSince(): number | undefined;
  thread(): ShardThread | undefined;
  /** The thread is stuck: end it and restart the shard. */
  stuck(thread: ShardThread, reason: string): void;
}

/**
 * A shard link's watchdog: while frames are in flight, a timer checks that the shard answered within
 * `shardTimeoutMs` (real time) of owing an answer; if not, the thread is stuck (an endless loop, a lost frame)
 * and is replaced. A backlog of frames that takes longer than that in all, answered one after another, is not.
 */
export class ShardWatchdog {
  #timer: NodeJS.Timeout | undefined;
  readonly #shard: number;
  readonly #timeoutMs: number;
  readonly #link: WatchedLink;

  constructor(shard: number, timeoutMs: number, link: WatchedLink) {
    this.#shard = shard;
    this.#timeoutMs = timeoutMs;
    this.#link = link;
  }

  /** Starts watching (if not already): a frame went out. */
  arm(delayMs = this.#timeoutMs): void {
    if (this.#timer || !this.#link.thread()) return;
    // Unref'd: while frames are in flight the port holds the process; the timer must not hold it alone.
    this.#timer = setTimeout(this.#check, delayMs).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Fires while frames are in flight: if the shard has owed an answer past the deadline, it is stuck. */
  readonly #check = (): void => {
    this.#timer = undefined;
    const since = this.#link.waitingSince();
    const thread = this.#link.thread();
    if (since === undefined || !thread) return;
    // Booting a thread is not being stuck (on a loaded 2-core machine it took over 400 ms): while it starts,
    // it gets STARTUP_ALLOWANCE_MS more; a frame's age counts from the start at the earliest.
    const timeout = this.#timeoutMs;
    const ready = thread.readyAt !== undefined;
    const limit = ready ? timeout : timeout + STARTUP_ALLOWANCE_MS;
    const age = performance.now() - Math.max(since, thread.readyAt ?? thread.startedAt);
    if (age < limit) {
      this.arm(limit - age);
      return;
    }
    // Timers run before the poll phase: if the main thread itself was blocked past the deadline, the answer
    // may be waiting on the port. setImmediate runs after the poll phase has delivered it.
    setImmediate(() => {
      if (this.#link.waitingSince() !== since) {
        this.#check(); // answered after all: watch the next frame, if any
        return;
      }
      this.#link.stuck(
        thread,
        ready
          ? `session shard ${this.#shard} did not answer within ${timeout} ms (shardTimeoutMs); it is being restarted`
          : `session shard ${this.#shard} did not start within ${limit} ms; it is being restarted`,
      );
    });
  };
}
