import type { GroupCounters } from './group-counters.js';
import type { KeyLayout } from './key-layout.js';
import type { RedisLink } from './redis-link.js';

/** Sessions one gc call removes at most: about a millisecond of Redis's time, which a call blocks. */
const GC_BATCH = 500;

/**
 * The 'redis' provider's garbage collector. Redis already deletes each session's hash at its deadline
 * (PEXPIREAT); what is left to sweep is the groups' deadline indexes, and the hashes of sessions that died by
 * the provider's clock before Redis's. A sweep asks every group for what is due, GC_BATCH at a time, until
 * none has any left. With several processes, each sweeps: a sweep that finds nothing costs 64 small calls.
 * A bound session it removes leaves its user's index in the same call, and its 'expired' event comes back
 * in that call's reply: expiry events are reported by whichever process's sweep reached the group first.
 */
export class Sweeper {
  readonly #link: RedisLink;
  readonly #layout: KeyLayout;
  readonly #groups: readonly GroupCounters[];
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(link: RedisLink, layout: KeyLayout, groups: readonly GroupCounters[]) {
    this.#link = link;
    this.#layout = layout;
    this.#groups = groups;
  }

  /** Removes every session whose deadline is at or before `now`; resolves how many. */
  async sweep(now: number): Promise<number> {
    let removed = 0;
    let due = this.#groups.map((_, group) => group);
    while (due.length > 0) {
      const counts = await Promise.all(
        due.map((group) =>
          this.#link.fcall('gc', [this.#layout.indexKey(group)], [String(now), String(GC_BATCH)]),
        ),
      );
      const next: number[] = [];
      for (const [i, group] of due.entries()) {
        const count = counts[i] as number;
        removed += count;
        (this.#groups[group] as GroupCounters).expired += count;
        if (count === GC_BATCH) next.push(group);
      }
      due = next;
    }
    return removed;
  }

  /** Sweeps every `intervalMs` through `run` (the provider's operation wrapper), one sweep at a time. */
  start(intervalMs: number, now: () => number, run: (work: () => Promise<number>) => Promise<number>): void {
    if (intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = true;
      const started = performance.now();
      run(() => this.sweep(now()))
        .then(
          () => (this.#groups[0] as GroupCounters).noteSweep(performance.now() - started),
          // Redis is away, or the provider closed: the next tick tries again (Redis expires keys meanwhile).
          () => undefined,
        )
        .finally(() => {
          this.#running = false;
        });
    }, intervalMs);
    // The tick must never be what keeps a process alive.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
