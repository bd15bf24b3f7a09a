import { decodeValue, encodeValue } from '../../codec.js';
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

/**
 * An entry younger than this is never pruned, even if its session is not there (yet): a session's creation
 * and its index entry are sent together but may reach different shards in either order.
 */
const PRUNE_GRACE_MS = 60_000;

/** Reads in flight at once while walking the index: bounded, so a walk never fills a shard's queue. */
export const WALK_CHUNK = 256;

/**
 * The list of every session one store holds, kept in the provider itself, because the provider contract can
 * count sessions but not enumerate them, and the index must reach every process that shares the provider
 * (Redis, PostgreSQL) without living on the main thread's heap. It is `INDEX_BUCKETS` reserved records (their
 * ids are keyed hashes like the sessions', see `StoreKeys`); a session is listed in its bucket under its
 * provider id, with the time it was listed as value. Adding or removing an entry is one commit of one key, so
 * concurrent writers never lose each other's entries.
 *
 * Sessions that expire are not removed by the provider's GC from here (the contract has no events yet): a
 * pruner reads the sessions a bucket lists and removes the entries of those that are gone. A bucket holds at
 * most the provider's `maxKeys` entries; the store asks its own provider for room (see `store-options.ts`).
 */
export class SessionIndex {
  readonly #provider: SessionProvider;
  readonly #now: () => number;
  readonly #bucketSids: string[];

  constructor(provider: SessionProvider, keys: StoreKeys, now: () => number) {
    this.#provider = provider;
    this.#now = now;
    this.#bucketSids = Array.from({ length: INDEX_BUCKETS }, (_, bucket) => keys.bucket(bucket));
  }

  /** Lists a session (idempotent: listing it twice keeps one entry). */
  async add(key: SessionKey): Promise<void> {
    const sid = this.#bucketSids[key.bucket] as string;
    const delta = { set: [[key.sid, encodeValue(this.#now())] as const] };
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

  /** The provider ids a bucket lists, with when each was listed. */
  async entries(bucket: number): Promise<Map<string, number>> {
    const snapshot = await this.#provider.read(this.#bucketSids[bucket] as string);
    const entries = new Map<string, number>();
    if (!snapshot) return entries;
    for (const [sid, bytes] of snapshot.values) {
      const listedAt = decodeValue(bytes);
      entries.set(sid, typeof listedAt === 'number' ? listedAt : 0);
    }
    return entries;
  }

  /**
   * Calls `visit` with each listed session's snapshot (null for one that is gone), a bucket at a time and at
   * most `WALK_CHUNK` reads at once. The snapshots are the provider's: a session changed meanwhile may be seen
   * before or after the change.
   */
  async walk(
    visit: (sid: string, snapshot: SessionSnapshot | null, listedAt: number) => void,
  ): Promise<void> {
    for (let bucket = 0; bucket < INDEX_BUCKETS; bucket++) await this.walkBucket(bucket, visit);
  }

  /** `walk` for one bucket. */
  async walkBucket(
    bucket: number,
    visit: (sid: string, snapshot: SessionSnapshot | null, listedAt: number) => void,
  ): Promise<void> {
    const entries = [...(await this.entries(bucket))];
    for (let from = 0; from < entries.length; from += WALK_CHUNK) {
      const chunk = entries.slice(from, from + WALK_CHUNK);
      const snapshots = await Promise.all(chunk.map(([sid]) => this.#provider.read(sid)));
      for (let i = 0; i < chunk.length; i++) {
        const [sid, listedAt] = chunk[i] as [string, number];
        visit(sid, snapshots[i] ?? null, listedAt);
      }
    }
  }

  /**
   * Removes the entries of one bucket whose sessions are gone (expired, destroyed, evicted, or lost with a
   * shard), and slides the bucket's own deadline. Resolves how many entries it removed.
   */
  async prune(bucket: number): Promise<number> {
    const gone: string[] = [];
    const now = this.#now();
    await this.walkBucket(bucket, (sid, snapshot, listedAt) => {
      if (snapshot === null && now - listedAt >= PRUNE_GRACE_MS) gone.push(sid);
    });
    await this.#provider.commit(this.#bucketSids[bucket] as string, { delete: gone });
    return gone.length;
  }

  /** Unlists exactly these sessions of one bucket (what `clear` destroyed), leaving any listed since. */
  async removeAll(bucket: number, sids: readonly string[]): Promise<void> {
    if (sids.length > 0)
      await this.#provider.commit(this.#bucketSids[bucket] as string, { delete: [...sids] });
  }
}
