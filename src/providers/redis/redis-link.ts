import { ClosedError, OverloadedError, StoreUnavailableError } from '../../errors.js';
import type { FunctionCaller, RedisClient } from './client.js';
import type { EventInbox } from './event-inbox.js';
import { type FunctionName, functionName, LIBRARY_SOURCE } from './lua/library.js';
import { isFunctionNotFound, mapRedisError } from './replies.js';

/** One operation on its way to Redis, or held until the functions are loaded. */
interface Operation {
  readonly send: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  /** performance.now() when it was issued: its answer is due within the timeout from then. */
  readonly issuedAt: number;
  /** Issue order, kept when operations are held and sent again. */
  readonly seq: number;
  settled: boolean;
  /** Times Redis answered "Function not found"; past one retry, the failure is reported. */
  retries: number;
  /** A read, safe to send again: one answered after a "Function not found" to an earlier operation is. */
  readonly rereadable: boolean;
  /** A function call: its reply may carry events (see `event-inbox.ts`). */
  readonly evented: boolean;
}

/**
 * The provider's way to Redis: every command goes through here, and here is what bounds it.
 * - Time: an operation not answered within `timeoutMs` rejects `StoreUnavailableError` (one timer for all,
 *   armed at the oldest operation's deadline: operations share one timeout, so issue order is deadline order).
 * - Memory: past `maxQueued` commands unanswered by Redis, calls reject `OverloadedError` without being sent.
 * - The functions: before the first command, and whenever a node answers "Function not found" (a server
 *   that restarted without persistence, a node added to a Cluster), commands are held, the library is loaded
 *   on every master, and the held ones are sent again in issue order, after everything in flight was answered,
 *   so a retried write still lands before the reads issued after it. A read issued after the failed write
 *   and answered meanwhile may have missed it: its answer is dropped and it is sent again too.
 */
export class RedisLink {
  readonly #client: RedisClient & FunctionCaller;
  readonly #timeoutMs: number;
  readonly #maxQueued: number;
  #library: 'unloaded' | 'loading' | 'loaded' = 'unloaded';
  readonly #held: Operation[] = [];
  /** Operations whose caller waits, in issue order: the timeout sweep walks it from the oldest. */
  readonly #unanswered = new Set<Operation>();
  /** Commands handed to the client whose reply has not come (even if the caller was already told it timed out). */
  #outstanding = 0;
  #seq = 0;
  /** The first operation answered "Function not found" since the library was last loaded. */
  #failedFrom = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #whenIdle: (() => void)[] = [];
  readonly #inbox: EventInbox | undefined;

  /** `inbox` receives the events function replies carry; without one, such a reply is passed on whole. */
  constructor(
    client: RedisClient & FunctionCaller,
    timeoutMs: number,
    maxQueued: number,
    inbox?: EventInbox,
  ) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    this.#maxQueued = maxQueued;
    this.#inbox = inbox;
  }

  get client(): RedisClient {
    return this.#client;
  }

  /** Commands with Redis or held for it. */
  get queueDepth(): number {
    return this.#outstanding + this.#held.length;
  }

  /** Calls one of the library's functions with its keys and arguments. */
  fcall(name: FunctionName, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
    const fn = functionName(name);
    return this.#run(() => this.#client.fcallBuffer(fn, keys.length, ...keys, ...args), false, true);
  }

  /** Sends a command that only reads (and so may be sent again), under the same bounds. */
  read<T>(send: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.#run(() => send(this.#client), true) as Promise<T>;
  }

  /** Sends any other command, under the same bounds. */
  command<T>(send: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.#run(() => send(this.#client), false) as Promise<T>;
  }

  /** Refuses new operations and resolves once every operation issued before was answered (or timed out). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#unanswered.size > 0) await new Promise<void>((resolve) => this.#whenIdle.push(resolve));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #run(send: () => Promise<unknown>, rereadable: boolean, evented = false): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError());
    if (this.queueDepth >= this.#maxQueued) {
      return Promise.reject(
        new OverloadedError(
          `session store overloaded: ${this.queueDepth} Redis commands unanswered, the limit (maxQueuedOps)`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const op: Operation = {
        send,
        resolve,
        reject,
        issuedAt: performance.now(),
        seq: this.#seq++,
        settled: false,
        retries: 0,
        rereadable,
        evented,
      };
      this.#unanswered.add(op);
      this.#armTimer();
      if (this.#library === 'loaded') this.#send(op);
      else {
        this.#hold(op);
        this.#loadWhenDrained();
      }
    });
  }

  #send(op: Operation): void {
    this.#outstanding++;
    let reply: Promise<unknown>;
    try {
      reply = op.send();
    } catch (error) {
      reply = Promise.reject(error); // a client that throws instead of rejecting
    }
    reply.then(
      (answer) => {
        this.#outstanding--;
        // Taken even from a reply that came too late for its caller: the sessions it ended did end.
        const value = op.evented && this.#inbox ? this.#inbox.take(answer) : answer;
        if (op.rereadable && op.seq > this.#failedFrom && this.#library !== 'loaded') this.#hold(op);
        else this.#settle(op, value, undefined);
        this.#loadWhenDrained();
      },
      (error: unknown) => {
        this.#outstanding--;
        if (isFunctionNotFound(error) && !op.settled && op.retries++ < 1) {
          if (this.#library === 'loaded') this.#library = 'unloaded';
          this.#failedFrom = Math.min(this.#failedFrom, op.seq);
          this.#hold(op);
        } else this.#settle(op, undefined, mapRedisError(error));
        this.#loadWhenDrained();
      },
    );
  }

  /** Holds an operation, keeping the held ones in issue order. */
  #hold(op: Operation): void {
    let at = this.#held.length;
    while (at > 0 && (this.#held[at - 1] as Operation).seq > op.seq) at--;
    this.#held.splice(at, 0, op);
  }

  // Loads the library once nothing is in flight: every "Function not found" has then come back and been
  // held in order, so nothing sent later can overtake it.
  #loadWhenDrained(): void {
    if (this.#library !== 'unloaded' || this.#held.length === 0 || this.#outstanding > 0) return;
    this.#library = 'loading';
    withTimeout(this.#loadLibrary(), this.#timeoutMs, 'loading its functions').then(
      () => {
        this.#library = 'loaded';
        this.#failedFrom = Number.POSITIVE_INFINITY;
        for (const op of this.#held.splice(0)) if (!op.settled) this.#send(op);
      },
      (error: unknown) => {
        this.#library = 'unloaded';
        const failure = mapRedisError(error);
        for (const op of this.#held.splice(0)) this.#settle(op, undefined, failure);
      },
    );
  }

  /** FUNCTION LOAD on the server, or on every master of a Cluster (replicas get it by replication). */
  async #loadLibrary(): Promise<void> {
    await this.#ready();
    const client = this.#client;
    const targets = client.isCluster && client.nodes ? client.nodes('master') : [client];
    const results = await Promise.allSettled(
      targets.map((node) =>
        node.call('FUNCTION', 'LOAD', LIBRARY_SOURCE).catch((error: Error) => {
          if (!/already exists/.test(error.message)) throw error;
        }),
      ),
    );
    // A master that is down gets the library when it is back (a not-found brings us here again); one that
    // answered loaded it. Only when none did is it a failure.
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (targets.length === 0 || failed.length === targets.length) {
      throw (
        failed[0]?.reason ?? new StoreUnavailableError('session store unavailable: no Redis master known')
      );
    }
  }

  #ready(): Promise<void> {
    const client = this.#client;
    if (client.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      client.once('ready', resolve);
      // The caller's timeout ends the wait; the listener must not outlive it.
      setTimeout(() => client.removeListener('ready', resolve), this.#timeoutMs).unref();
    });
  }

  #settle(op: Operation, value: unknown, error: Error | undefined): void {
    if (op.settled) return;
    op.settled = true;
    this.#unanswered.delete(op);
    if (error) op.reject(error);
    else op.resolve(value);
    if (this.#unanswered.size === 0 && this.#whenIdle.length > 0) {
      for (const resolve of this.#whenIdle.splice(0)) resolve();
    }
  }

  #armTimer(): void {
    if (this.#timer || this.#unanswered.size === 0) return;
    const oldest = this.#unanswered.values().next().value as Operation;
    const wait = Math.max(0, oldest.issuedAt + this.#timeoutMs - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sweep();
    }, wait);
    this.#timer.unref();
  }

  #sweep(): void {
    const now = performance.now();
    for (const op of this.#unanswered) {
      if (op.issuedAt + this.#timeoutMs > now) break;
      const error = new StoreUnavailableError(
        `session store unavailable: Redis did not answer within ${this.#timeoutMs} ms`,
      );
      this.#settle(op, undefined, error);
    }
    this.#armTimer();
  }
}

/** Rejects `StoreUnavailableError` if `promise` has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`session store unavailable: Redis timed out ${what}`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
