/**
 * The probation segment of a table's eviction order (segmented LRU): the sessions never read since their
 * creation, oldest first. At capacity a table evicts from here before it touches a session a user came back
 * to, so a flood of one-request sessions (bots, anonymous hits) pushes out its own kind, not real users.
 *
 * Whether a session is on probation is a flag in its packed record (packed-record.ts); this is only the
 * order: a queue of ids in creation order, in chunks of plain arrays (8 B per id; a Set cost ~30 B each).
 * Leaving probation does not touch the queue: an id whose record is gone or no longer flagged is stale and
 * is dropped when it reaches the head, by `oldest` or by `tidy`, which each `add` calls. So the queue holds
 * the sessions created since the oldest one still on probation, which expires within one idle timeout.
 */
const CHUNK_SIZE = 4096;
/** Stale ids `add` drops from the head: more than one per add, so the queue shrinks back after a burst. */
const TIDY_STEPS = 2;

/** Tells whether `sid` is (still) on probation. */
export type OnProbation = (sid: string) => boolean;

export class Probation {
  /** Chunks in creation order; `#head` is the index of the oldest id in the first one. */
  readonly #chunks: string[][] = [];
  #head = 0;
  #size = 0;
  readonly #isOn: OnProbation;

  constructor(isOn: OnProbation) {
    this.#isOn = isOn;
  }

  /** Sessions on probation (flagged), not ids queued. */
  get size(): number {
    return this.#size;
  }

  /** Ids queued, stale ones included (diagnostics: it must shrink back). */
  get queued(): number {
    let queued = -this.#head;
    for (const chunk of this.#chunks) queued += chunk.length;
    return queued;
  }

  /** A new session was flagged: it goes to the end of the queue. */
  add(sid: string): void {
    this.tidy(TIDY_STEPS);
    let tail = this.#chunks[this.#chunks.length - 1];
    if (!tail || tail.length >= CHUNK_SIZE) {
      tail = [];
      this.#chunks.push(tail);
    }
    tail.push(sid);
    this.#size++;
  }

  /** A flagged session was read again, or left the table (its id stays queued, stale). */
  left(): void {
    this.#size--;
  }

  /** The oldest session on probation other than `except`. */
  oldest(except?: string): string | undefined {
    this.tidy(Number.POSITIVE_INFINITY);
    for (let c = 0; c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c] as string[];
      for (let i = c === 0 ? this.#head : 0; i < chunk.length; i++) {
        const sid = chunk[i] as string;
        if (sid !== except && this.#isOn(sid)) return sid;
      }
    }
    return undefined;
  }

  /** Drops up to `steps` stale ids at the head of the queue (each dropped once: O(1) per id overall). */
  tidy(steps: number): void {
    for (let dropped = 0; dropped < steps; ) {
      const first = this.#chunks[0];
      if (!first) return;
      if (this.#head >= first.length) {
        this.#chunks.shift();
        this.#head = 0;
        continue;
      }
      if (this.#isOn(first[this.#head] as string)) return;
      this.#head++;
      dropped++;
    }
  }
}
