/**
 * The probation segment of a table's eviction order (segmented LRU): the sessions never read since their
 * creation, oldest first. At capacity a table evicts from here before it touches a session a user came back
 * to, so a flood of one-request sessions (bots, anonymous hits) pushes out its own kind, not real users.
 *
 * Kept as a queue of small Sets (chunks): a record remembers its chunk, so leaving probation is an O(1)
 * delete, and a rehash when a Set shrinks costs at most one chunk, never the whole segment (one Set of
 * millions would pause for tens of ms; see expiry-index.ts). Empty chunks leave the queue at once.
 */
const CHUNK_SIZE = 4096;

export type ProbationChunk = Set<string>;

export class Probation {
  /** Chunks in creation order: the first non-empty one holds the oldest session on probation. */
  readonly #chunks = new Set<ProbationChunk>();
  #tail: ProbationChunk | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Puts a new session on probation; returns the chunk, which its record keeps for `remove`. */
  add(sid: string): ProbationChunk {
    let tail = this.#tail;
    if (!tail || tail.size >= CHUNK_SIZE) {
      tail = new Set();
      this.#tail = tail;
      this.#chunks.add(tail);
    }
    tail.add(sid);
    this.#size++;
    return tail;
  }

  /** Takes a session off probation (it was read again, or it left the table). */
  remove(sid: string, chunk: ProbationChunk): void {
    if (!chunk.delete(sid)) return;
    this.#size--;
    if (chunk.size === 0) {
      this.#chunks.delete(chunk);
      if (chunk === this.#tail) this.#tail = undefined;
    }
  }

  /** The oldest session on probation other than `except`, with its chunk. */
  oldest(except?: string): { sid: string; chunk: ProbationChunk } | undefined {
    for (const chunk of this.#chunks) {
      for (const sid of chunk) if (sid !== except) return { sid, chunk };
    }
    return undefined;
  }
}
