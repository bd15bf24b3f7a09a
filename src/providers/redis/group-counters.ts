/**
 * What one process counts about one slot group, for `stats()`: Redis keeps the sessions, each process
 * counts its own operations.
 */
export class GroupCounters {
  ops = 0;
  /**
   * Event-loop turns in which this provider sent operations, counted on group 0 only (the others stay 0):
   * the commands of one turn leave together, one pipeline per node (ioredis auto-pipelining flushes on
   * setImmediate), so the sum of `ops` over the sum of `batches` is the batching achieved.
   */
  batches = 0;
  expired = 0;
  evicted = 0;
  gcSweeps = 0;
  gcMaxSliceMs = 0;

  /** A whole sweep of every group, counted on group 0 (a sweep is the provider's, not a group's). */
  noteSweep(ms: number): void {
    this.gcSweeps++;
    this.gcMaxSliceMs = Math.max(this.gcMaxSliceMs, ms);
  }
}

/** Counts an operation of `group` in `groups`, and the turn it was sent in on group 0. */
export class TurnCounter {
  #turnEnding = false;

  constructor(readonly groups: readonly GroupCounters[]) {}

  note(group: number): void {
    (this.groups[group] as GroupCounters).ops++;
    if (this.#turnEnding) return;
    // The first operation of a turn: the turn ends at the setImmediate that flushes the pipeline.
    this.#turnEnding = true;
    (this.groups[0] as GroupCounters).batches++;
    setImmediate(() => {
      this.#turnEnding = false;
    });
  }
}
