import type { SessionTable } from './session-table.js';

/**
 * A table's own garbage collector: every `intervalMs` it sweeps expired sessions in slices of at most
 * `sliceMs`, yielding to the event loop (setImmediate) between slices so requests are never stalled behind
 * a large sweep. Each slice is counted in the table's `gcSweeps`, and the longest in `gcMaxSliceMs`.
 */
export class GcTick {
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;
  #stopped = false;

  readonly #table: SessionTable;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #sliceMs: number;
  readonly #afterSlice: (() => void) | undefined;

  /** `afterSlice` runs after every slice: a durable shard deletes the slice's expired records there. */
  constructor(
    table: SessionTable,
    now: () => number,
    intervalMs: number,
    sliceMs: number,
    afterSlice?: () => void,
  ) {
    this.#table = table;
    this.#now = now;
    this.#intervalMs = intervalMs;
    this.#sliceMs = sliceMs;
    this.#afterSlice = afterSlice;
  }

  start(): void {
    if (this.#intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => this.sweep(), this.#intervalMs);
    // The tick must never be what keeps a process (or a worker) alive.
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Starts a sliced sweep unless one is already under way. */
  sweep(): void {
    if (this.#sweeping || this.#stopped) return;
    this.#sweeping = true;
    this.#slice();
  }

  #slice(): void {
    if (this.#stopped) {
      this.#sweeping = false;
      return;
    }
    const started = performance.now();
    const { done } = this.#table.sweep(this.#now(), this.#sliceMs);
    this.#afterSlice?.();
    const counters = this.#table.counters;
    counters.gcSweeps++;
    counters.gcMaxSliceMs = Math.max(counters.gcMaxSliceMs, performance.now() - started);
    if (done) this.#sweeping = false;
    else setImmediate(() => this.#slice());
  }
}
