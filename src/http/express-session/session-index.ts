import { SessionExistsError } from '../../errors.js';
import type { SessionPolicy, SessionProvider, SessionSnapshot } from '../../providers/provider.js';
import { INDEX_BUCKETS, type SessionKey, type StoreKeys } from './store-keys.js';

/**
 * A bucket lives as long as anything may be listed in it: 400 days idle (no browser keeps a cookie longer),
 * and each prune pass slides it. The absolute timeout is a century: no hard end.
 */
const BUCKET_POLICY: SessionPolicy = {
  idleTimeoutMs: 400 * 86_400_000,
  absoluteTimeoutMs: 100 * 365 * 86_400_000,
};

/** An entry is its key, the session's provider id: its value says nothing (and costs nothing). */
const LISTED = new Uint8Array(0);

/** Reads in flight at once while walking the index: bounded, so a walk never fills a shard's queue. */
export const WALK_CHUNK = 256;

/** Called by a walk with each listed session's provider id and snapshot (null for one that is gone). */
export type IndexVisitor = (sid: string, snapshot: SessionSnapshot | null) => void;

/**
 * The list of every session one store holds, kept in the provider itself, because the provider contract can
 * count sessions but not enumerate them, and the index must reach every process that shares the provider
 * (Redis, PostgreSQL) without living on the main thread's heap. It is `INDEX_BUCKETS` reserved records (their
 * ids are keyed hashes like the sessions', see `StoreKeys`); a session is listed in its bucket under its
 * provider id. Adding or removing an entry is one commit of one key, so concurrent writers never lose each
 * other's entries. The store lists a session only once the provider acknowledged its creation, so a walk that
 * finds an entry finds its session unless it is really gone.
 *
 * Sessions that expire are not removed from here by the provider's GC (the contract has no events yet): a
 * pruner reads the sessions a bucket lists and removes the entries of those that are gone. A bucket holds at
 * most the provider's `maxKeys` entries; the store asks its own provider for room (see `store-options.ts`).
 */
export class SessionIndex {
  readonly #provider: SessionProvider;
  readonly #bucketSids: string[];

  constructor(provider: SessionProvider, keys: StoreKeys) {
    this.#provider = provider;
    this.#bucketSids = Array.from({ length: INDEX_BUCKETS }, (_, bucket) => keys.bucket(bucket));
  }

  /** Lists a session (idempotent: listing it twice keeps one entry). */
  async add(key: SessionKey): Promise<void> {
    const sid = this.#bucketSids[key.bucket] as string;
    const delta = { set: [[key.sid, LISTED] as const] };
    // The bucket may not exist yet, and two writers may race to create it: the loser commits onto the winner's.
    for (let attempt = 0; ; attempt++) {
      if (await this.#provider.commit(sid, delta)) return;
      try {
        await this.#provider.init(sid, BUCKET_POLICY, delta);
        return;
      } catch (error) {
        if (!(error instanceof SessionExistsError) || attempt > 0) throw error;
      }
    }
  }

  /** Unlists a session. */
  async remove(key: SessionKey): Promise<void> {
    await this.#provider.commit(this.#bucketSids[key.bucket] as string, { delete: [key.sid] });
  }

  /** The provider ids a bucket lists. */
  async entries(bucket: number): Promise<string[]> {
    const snapshot = await this.#provider.read(this.#bucketSids[bucket] as string);
    return snapshot ? [...snapshot.values.keys()] : [];
  }

  /** The provider ids listed by the buckets `first` to `first + count - 1` (those that exist), read at once. */
  async entriesOf(first: number, count: number): Promise<string[][]> {
    const reads: Promise<string[]>[] = [];
    for (let bucket = first; bucket < Math.min(INDEX_BUCKETS, first + count); bucket++)
      reads.push(this.entries(bucket));
    return Promise.all(reads);
  }

  /**
   * Calls `visit` with each listed session's snapshot, `WALK_CHUNK` buckets at a time and at most `WALK_CHUNK`
   * reads at once: a small store's 4,096 mostly empty bucket records cost 16 round trips, not 4,096.
   * The snapshots are the provider's: a session changed meanwhile may be seen before or after the change.
   */
  async walk(visit: IndexVisitor): Promise<void> {
    for (let first = 0; first < INDEX_BUCKETS; first += WALK_CHUNK) {
      await this.#visit((await this.entriesOf(first, WALK_CHUNK)).flat(), visit);
    }
  }

  /**
   * Removes the entries of one bucket whose sessions are gone (expired, destroyed, evicted, or lost with a
   * shard), and slides the bucket's own deadline. Resolves how many entries it removed. (An id destroyed and
   * created again while its bucket is pruned may lose its entry: express-session never reuses an id.)
   */
  async prune(bucket: number): Promise<number> {
    const gone: string[] = [];
    await this.#walkBucket(bucket, (sid, snapshot) => {
      if (snapshot === null) gone.push(sid);
    });
    await this.#provider.commit(this.#bucketSids[bucket] as string, { delete: gone });
    return gone.length;
  }

  /** Unlists exactly these sessions of one bucket (what `clear` destroyed), leaving any listed since. */
  async removeAll(bucket: number, sids: readonly string[]): Promise<void> {
    if (sids.length > 0)
      await this.#provider.commit(this.#bucketSids[bucket] as string, { delete: [...sids] });
  }

  async #walkBucket(bucket: number, visit: IndexVisitor): Promise<void> {
    await this.#visit(await this.entries(bucket), visit);
  }

  async #visit(sids: readonly string[], visit: IndexVisitor): Promise<void> {
    for (let from = 0; from < sids.length; from += WALK_CHUNK) {
      const chunk = sids.slice(from, from + WALK_CHUNK);
      const snapshots = await Promise.all(chunk.map((sid) => this.#provider.read(sid)));
      for (let i = 0; i < chunk.length; i++) visit(chunk[i] as string, snapshots[i] ?? null);
    }
  }
}
