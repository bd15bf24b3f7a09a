import type { EventBatches } from '../event-batches.js';
import type { SessionEvent } from '../provider.js';
import { RESULT_TYPES } from './batch-codec.js';
import type { PostgresCounters } from './batch-queue.js';
import { sweepSql } from './batch-sql.js';
import type { Connections } from './connections.js';
import { eventOf } from './events.js';
import type { SchemaNames } from './schema-names.js';

export interface SweeperOptions {
  readonly connections: Connections;
  readonly names: SchemaNames;
  readonly now: () => number;
  readonly intervalMs: number;
  readonly batchSize: number;
  readonly timeoutMs: number;
  readonly counters: PostgresCounters;
  /** Resolves once the schema is in place (the GC may tick before any operation ran). */
  readonly ready: (timeoutMs: number) => Promise<void>;
  /** Where the expiry events of bound sessions go: one batch per statement (up to `batchSize` events). */
  readonly events: EventBatches;
}

/** A row of the sweep: the count (first), or an expired bound session. */
interface SweepRow {
  readonly removed: number | null;
  readonly user_id: string | null;
  readonly handle: string | null;
  readonly code: number | null;
}

/**
 * The provider's garbage collector: every `intervalMs` it deletes expired sessions, `batchSize` rows per
 * statement, until a statement finds fewer. No statement is ever an unbounded DELETE, so at a million expired
 * rows each one holds its locks briefly and writes a bounded amount of WAL, and requests keep being answered
 * between them. Several processes may sweep the same table: their statements skip each other's rows.
 * Failures (the database is down) are left for the next tick.
 */
export class Sweeper {
  readonly #options: SweeperOptions;
  readonly #text: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: SweeperOptions) {
    this.#options = options;
    this.#text = sweepSql(options.names);
  }

  start(): void {
    if (this.#options.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running || this.#stopped) return;
      this.#running = this.sweep(this.#options.now())
        .catch(() => {})
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#options.intervalMs);
    // The tick must never be what keeps a process alive.
    this.#timer.unref();
  }

  /** Stops the tick and waits for a sweep under way to finish its current statement. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * Deletes every session expired at `at`, in bounded statements. Resolves how many it removed. Until the
   * database first answers, the statements share `firstAnswerMs` (a caller's deadline); after that, each has
   * the full timeout, so a long but healthy sweep is not cut short.
   */
  async sweep(at: number, firstAnswerMs = this.#options.timeoutMs): Promise<number> {
    const { connections, batchSize, timeoutMs, counters, events } = this.#options;
    const deadline = performance.now() + firstAnswerMs;
    await this.#options.ready(firstAnswerMs);
    let removed = 0;
    for (let answered = false; ; answered = true) {
      const started = performance.now();
      const { rows } = await connections.query(
        { text: this.#text, values: [at, batchSize], types: RESULT_TYPES },
        'sweeping expired sessions',
        answered ? timeoutMs : Math.max(1, Math.ceil(deadline - started)),
      );
      let count = 0;
      const ended: SessionEvent[] = [];
      for (const row of rows as SweepRow[]) {
        if (row.removed !== null) count = row.removed;
        else ended.push(eventOf(row.code as number, row.user_id as string, row.handle as string));
      }
      events.addAll(ended);
      counters.gcSweeps++;
      counters.gcMaxSliceMs = Math.max(counters.gcMaxSliceMs, performance.now() - started);
      counters.expired += count;
      removed += count;
      if (count < batchSize || this.#stopped) return removed;
    }
  }
}
