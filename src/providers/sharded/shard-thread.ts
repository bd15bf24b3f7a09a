import { MessageChannel, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ShardSetup } from './worker.js';

const noop = (): void => {};
/** How long a durable shard may take to close its store and exit before its thread is ended anyway. */
const DURABLE_EXIT_WAIT_MS = 2000;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export interface ShardThreadOptions {
  readonly filename: string;
  readonly resourceLimits: ResourceLimits | undefined;
  /** What the shard is started with, but its port (each generation has its own channel). */
  readonly setup: Omit<ShardSetup, 'port'>;
}

/**
 * One generation of a shard's thread: its piscina pool of exactly one thread, its channel, and how its death
 * is seen (the channel's 'close', the task's rejection, the pool's 'workerDestroy'; `died` is called once).
 * A restarted shard gets a new generation, pool included: piscina does not reliably replace a thread that
 * died while starting (it then stops replacing threads, and a queued task waits forever).
 * atomics 'disabled': piscina's default 'sync' parks an idle worker in Atomics.wait, which would freeze the
 * shard's event loop and with it the GC tick and the port.
 */
export class ShardThread {
  readonly port: MessagePort;
  /** `performance.now()` when the thread was asked to start. */
  readonly startedAt = performance.now();
  #readyAt: number | undefined;
  #dead = false;
  readonly #pool: Piscina;
  readonly #died: (reason: string) => void;

  constructor(
    options: ShardThreadOptions,
    onAnswer: (buffer: ArrayBuffer) => void,
    died: (reason: string) => void,
  ) {
    this.#died = died;
    const { filename, resourceLimits, setup } = options;
    this.#pool = new Piscina({
      filename,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      idleTimeout: Number.POSITIVE_INFINITY,
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    const death = `session shard ${setup.shard} died; it is being restarted`;
    // The pool's own error event must not crash the process: the death is seen below.
    this.#pool.on('error', noop);
    this.#pool.on('workerDestroy', () => this.#die(death));
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.on('message', onAnswer);
    // The thread's end closes its side of the channel: that is how a crash (or a terminate) is seen.
    port1.on('close', () => this.#die(death));
    // Referenced only while an answer is awaited (the link refs it): an idle shard never holds the process.
    port1.unref();
    this.#pool.run({ ...setup, port: port2 } satisfies ShardSetup, { transferList: [port2] }).then(
      () => (this.#readyAt = performance.now()),
      () => this.#die(`session shard ${setup.shard} failed to start; it is being restarted`),
    );
  }

  /** When the thread had started (its task resolved); undefined while it starts. */
  get readyAt(): number | undefined {
    return this.#readyAt;
  }

  /**
   * Ends this generation: closes the channel and ends the thread (at once, even one stuck in a loop; a
   * durable shard, `exitsByItself`, first gets time to close its store), and resolves once the thread has
   * exited. Not by awaiting the pool's destroy() alone: it waits for an 'exit' that a thread which had
   * already exited never emits again.
   */
  async end(exitsByItself = false): Promise<void> {
    this.#dead = true;
    this.port.close();
    const thread = this.#pool.threads[0];
    // A durable shard closes its store and exits by itself once its port closes: give it time to.
    if (thread && exitsByItself) await Promise.race([this.exited(), delay(DURABLE_EXIT_WAIT_MS)]);
    const destroyed = this.#pool.destroy().catch(noop);
    await (thread ? thread.terminate().then(noop, noop) : destroyed);
  }

  /**
   * Resolves when the thread has exited (at once if there is none). Until then the thread holds the process:
   * an idle shard's thread is unref'd, and a durable one closing its store by itself would otherwise let a
   * script end before its `await provider.close()` returned.
   */
  exited(): Promise<void> {
    const thread = this.#pool.threads[0];
    if (!thread || thread.threadId === -1) return Promise.resolve();
    thread.ref();
    return new Promise((resolve) => thread.once('exit', () => resolve()));
  }

  /** Ends the thread the way a crash would (fault injection); resolves once it has exited. */
  async crash(): Promise<void> {
    await this.#pool.threads[0]?.terminate();
  }

  #die(reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#died(reason);
  }
}
