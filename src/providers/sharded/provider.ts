import { ClosedError, InvalidArgumentError } from '../../errors.js';
import { checkDelta, checkIncrAmount, checkKey, checkPolicy, checkSid } from '../contract-checks.js';
import type {
  SessionDelta,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
} from '../provider.js';
import { claimDir, type DirClaim } from './durable/dir-claim.js';
import { resolveShardedOptions, type ShardedProviderOptions } from './options.js';
import { decodeMeta, encodeDelta, Op } from './protocol.js';
import { shardOf } from './shard-hash.js';
import { ShardLink } from './shard-link.js';
import { UserCalls } from './user-calls.js';
import { workerFilename } from './worker-path.js';

export {
  DEFAULT_MAX_OPS_PER_FRAME,
  DEFAULT_MAX_QUEUED_OPS,
  DEFAULT_READ_CACHE_BYTES,
  DEFAULT_SHARD_TIMEOUT_MS,
  defaultShardCount,
  type ShardedProviderOptions,
} from './options.js';

/**
 * The 'sharded' provider: the session-id space is split across worker threads, each the only owner of
 * its sessions (an actor), so nothing is shared and nothing is locked. The main thread hashes the id to
 * its shard and sends the operation down that shard's ordered channel, batched per event-loop turn.
 * Because each shard applies its operations in the order sent, a commit that is sent before a later read
 * of the same id is seen by that read, even if nobody awaited the commit.
 */
export class ShardedProvider implements SessionProvider {
  readonly #links: ShardLink[];
  readonly #now: () => number;
  readonly #gcSliceMs: number;
  /** With `dir`: this process's claim on it, released at close. */
  readonly #claim: DirClaim | undefined;
  #closed = false;
  /** Renames across shards under way: `close()` waits for them. */
  readonly #renames = new Set<Promise<unknown>>();
  // Users, events and per-session timeouts (issue 13): see user-calls.ts.
  readonly #users = new UserCalls(
    (sid) => this.#owner(sid),
    (op) => this.#everyShard(op),
  );
  readonly bindUser = this.#users.bindUser;
  readonly sessionsOf = this.#users.sessionsOf;
  readonly revoke = this.#users.revoke;
  readonly revokeUser = this.#users.revokeUser;
  readonly setTimeouts = this.#users.setTimeouts;
  readonly onEvents = this.#users.onEvents;

  constructor(options: ShardedProviderOptions = {}) {
    const resolved = resolveShardedOptions(options);
    const { limits, now, gcIntervalMs, gcSliceMs, shards, maxQueuedOps, maxOpsPerFrame } = resolved;
    const { shardTimeoutMs, resourceLimits, durable, readCacheBytes } = resolved;
    this.#now = now;
    this.#gcSliceMs = gcSliceMs;
    const filename = workerFilename();
    this.#claim = durable && claimDir(durable.dir);
    this.#links = Array.from(
      { length: shards },
      (_, shard) =>
        new ShardLink({
          shard,
          filename,
          limits,
          gcIntervalMs,
          gcSliceMs,
          maxQueuedOps,
          maxOpsPerFrame,
          now,
          shardTimeoutMs,
          resourceLimits,
          shards,
          durable: durable && { ...durable, dir: (this.#claim as DirClaim).dir },
          onEvents: this.#users.deliver,
          readCacheBytes: Math.floor(readCacheBytes / shards),
        }),
    );
  }

  /** How many shards (threads) this provider runs. */
  get shardCount(): number {
    return this.#links.length;
  }

  async init(sid: string, policy: SessionPolicy, initial?: SessionDelta): Promise<SessionMeta> {
    const owner = this.#owner(sid);
    checkPolicy(policy);
    if (initial !== undefined) checkDelta(initial);
    const [sets, deletes] = encodeDelta(initial);
    const op = [Op.Init, sid, policy.idleTimeoutMs, policy.absoluteTimeoutMs, sets, deletes];
    return decodeMeta(await owner.call(op)) as SessionMeta;
  }

  // Not `async`: a read of a hot session is answered from the main thread's cache (read-cache.ts), whose link
  // also decodes the shard's answer (and files it).
  read(sid: string): Promise<SessionSnapshot | null> {
    try {
      const owner = this.#owner(sid);
      const cached = owner.cached(sid);
      if (cached !== undefined) return Promise.resolve(cached);
      return owner.call([Op.Read, sid]) as Promise<SessionSnapshot | null>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async commit(sid: string, delta: SessionDelta): Promise<SessionMeta | null> {
    const owner = this.#owner(sid);
    checkDelta(delta);
    const [sets, deletes] = encodeDelta(delta);
    return decodeMeta(await owner.call([Op.Commit, sid, sets, deletes]));
  }

  // Not `async`: the hottest operation hands the shard's promise straight back, one promise hop fewer.
  incr(sid: string, key: string, by: number): Promise<number | null> {
    try {
      const owner = this.#owner(sid);
      checkKey(key);
      checkIncrAmount(by);
      return owner.call([Op.Incr, sid, key, by]) as Promise<number | null>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Same shard: one atomic operation. Across shards: the old shard hands the record over (the old id is
   * dead from that moment) and the new shard stores it; if the new id turns out to be taken, the record
   * goes back under the old id. Operations on the new id must wait for this to resolve.
   */
  async rename(oldSid: string, newSid: string): Promise<SessionMeta | null> {
    const from = this.#owner(oldSid);
    const to = this.#owner(newSid);
    // Both ids are checked (by #owner) before anything is sent.
    if (from === to) return decodeMeta(await from.call([Op.Rename, oldSid, newSid]));
    const moving = this.#renameAcross(from, to, oldSid, newSid);
    this.#renames.add(moving);
    try {
      return await moving;
    } finally {
      this.#renames.delete(moving);
    }
  }

  async #renameAcross(
    from: ShardLink,
    to: ShardLink,
    oldSid: string,
    newSid: string,
  ): Promise<SessionMeta | null> {
    const record = await from.call([Op.Take, oldSid]);
    if (record === null) return null;
    try {
      return decodeMeta(await to.call([Op.Put, newSid, record]));
    } catch (error) {
      // Whatever refused the put (the new id taken, the new shard overloaded or dead), the record goes back
      // as it was (no slide), even past the old shard's queue limit: a failed rename must not lose the session.
      await from.callPastLimit([Op.Put, oldSid, record, false]);
      throw error;
    }
  }

  async destroy(sid: string): Promise<boolean> {
    return (await this.#owner(sid).call([Op.Destroy, sid])) as boolean;
  }

  /** Sweeps every shard in slices of `gcSliceMs`, one frame each, until each is done. */
  async gc(now?: number): Promise<number> {
    if (this.#closed) throw new ClosedError();
    const at = now ?? this.#now();
    const sweepShard = async (link: ShardLink): Promise<number> => {
      let total = 0;
      for (;;) {
        const [removed, done] = (await link.call([Op.Gc, at, this.#gcSliceMs])) as [number, boolean];
        total += removed;
        if (done) return total;
      }
    };
    const removed = await Promise.all(this.#links.map(sweepShard));
    return removed.reduce((sum, n) => sum + n, 0);
  }

  async count(): Promise<number> {
    const counts = await this.#everyShard([Op.Count]);
    return counts.reduce((sum: number, n) => sum + (n as number), 0);
  }

  async stats(): Promise<ShardStats[]> {
    const answers = await this.#everyShard([Op.Stats]);
    return answers.map((answer, shard) => {
      const [
        threadId,
        sessions,
        ops,
        batches,
        gcSweeps,
        gcMaxSliceMs,
        expired,
        evicted,
        heapUsedBytes,
        bytes,
        maxBytes,
      ] = answer as number[];
      return {
        shard,
        threadId: threadId as number,
        sessions: sessions as number,
        ops: ops as number,
        batches: batches as number,
        queueDepth: (this.#links[shard] as ShardLink).queueDepth,
        gcSweeps: gcSweeps as number,
        gcMaxSliceMs: gcMaxSliceMs as number,
        expired: expired as number,
        evicted: evicted as number,
        heapUsedBytes: heapUsedBytes as number,
        bytes: bytes as number,
        maxBytes: maxBytes as number,
        ...(this.#links[shard] as ShardLink).cacheStats,
      };
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A rename across shards holds its session between two shards: it lands, or goes back, before any link
    // closes (a closed link would refuse both the put and the put back, and the session would be lost).
    await Promise.allSettled([...this.#renames]);
    try {
      await Promise.all(this.#links.map((link) => link.close()));
    } finally {
      this.#claim?.release();
    }
  }

  /**
   * Ends a shard's thread the way a crash would: the shard restarts, empty in memory, or with `dir` with its
   * sessions read back from the files (every acknowledged write is there; a durable shard is told to exit
   * between two frames). For fault-injection tests and operators; resolves once the thread has exited.
   */
  async terminateShard(shard: number): Promise<void> {
    const link = this.#links[shard];
    if (!link) throw new InvalidArgumentError(`terminateShard: no shard ${String(shard)}`);
    await link.terminateThread();
  }

  /**
   * Makes a shard stop answering, for fault-injection tests of the watchdog: `'drop'` ignores every frame
   * from now on (a lost frame), `'loop'` spins forever (a stuck thread). The watchdog then restarts it.
   */
  hangShard(shard: number, mode: 'drop' | 'loop'): void {
    const link = this.#links[shard];
    if (!link) throw new InvalidArgumentError(`hangShard: no shard ${String(shard)}`);
    link.call([Op.Hang, mode === 'loop' ? 1 : 0]).catch(() => {});
  }

  #owner(sid: string): ShardLink {
    if (this.#closed) throw new ClosedError();
    // The id's shape is checked here, before any shard sees it (and before hashing it).
    checkSid(sid);
    return this.#links[shardOf(sid, this.#links.length)] as ShardLink;
  }

  #everyShard(op: readonly unknown[]): Promise<unknown[]> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return Promise.all(this.#links.map((link) => link.call(op)));
  }
}

/** Builds a 'sharded' provider. */
export function createShardedProvider(options?: ShardedProviderOptions): ShardedProvider {
  return new ShardedProvider(options);
}
