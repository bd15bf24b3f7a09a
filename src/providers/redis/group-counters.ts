/**
 * What one process counts about one slot group, for `stats()`: Redis keeps the sessions, each process
 * counts its own operations. `batches` counts the event-loop turns in which the group had operations: the
 * commands of one turn leave together (ioredis auto-pipelining), so `ops / batches` is the batching achieved.
 */
export class GroupCounters {
  ops = 0;
  batches = 0;
  expired = 0;
  evicted = 0;
  gcSweeps = 0;
  gcMaxSliceMs = 0;
  #turn = -1;

  noteOp(): void {
    this.ops++;
    if (this.#turn === currentTurn) return;
    this.#turn = currentTurn;
    this.batches++;
    scheduleTurnEnd();
  }

  /** A whole sweep of every group, counted on group 0 (a sweep is the provider's, not a group's). */
  noteSweep(ms: number): void {
    this.gcSweeps++;
    this.gcMaxSliceMs = Math.max(this.gcMaxSliceMs, ms);
  }
}

// One turn number for the process: a turn ends at the setImmediate after its first operation, which is when
// ioredis flushes its auto-pipeline.
let currentTurn = 0;
let turnEndScheduled = false;

function scheduleTurnEnd(): void {
  if (turnEndScheduled) return;
  turnEndScheduled = true;
  setImmediate(() => {
    currentTurn++;
    turnEndScheduled = false;
  });
}
