import { threadId } from 'node:worker_threads';
import { ClosedError } from '../../errors.js';
import { checkDelta, checkIncrAmount, checkKey, checkPolicy, checkSid } from '../contract-checks.js';
import type {
  SessionDelta,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
} from '../provider.js';
import type { ResolvedLimits } from '../provider-options.js';
import { createClient } from './client.js';
import { type MoveContext, renameAcrossGroups, settleStaleMove } from './cluster-rename.js';
import { commitArgs, initialArgs } from './delta-args.js';
import { GroupCounters } from './group-counters.js';
import { groupOf, KeyLayout, SLOT_GROUPS } from './key-layout.js';
import { type RedisProviderOptions, resolveRedisOptions } from './options.js';
import { RedisLink } from './redis-link.js';
import { parseHash, parseNumber, StaleMoveReply } from './replies.js';
import { parseMeta, publicMeta } from './session-meta.js';
import { Sweeper } from './sweeper.js';

const num = (n: number): string => String(n);

/**
 * The 'redis' provider: sessions in Redis or Redis Cluster, shared by every process that uses the same
 * prefix. One hash per session (a field per key, so a commit merges per key natively), one sorted set of
 * deadlines per slot group (count without scanning), and one Redis function per operation, each atomic on
 * one slot. Deadlines are compared with this provider's clock; Redis also expires each key at its deadline.
 * Operations issued in one event-loop turn leave as one pipeline per node; every one is bounded in time
 * (`operationTimeoutMs`) and in number (`maxQueuedOps`). See `key-layout.ts`, `lua/library.ts`,
 * `redis-link.ts` and `cluster-rename.ts` for each part, and the README for the guarantees.
 */
export class RedisProvider implements SessionProvider {
  readonly #link: RedisLink;
  readonly #layout: KeyLayout;
  readonly #now: () => number;
  readonly #limits: ResolvedLimits;
  readonly #maxSessionsPerGroup: number;
  readonly #cluster: boolean;
  readonly #ownsClient: boolean;
  readonly #groups = Array.from({ length: SLOT_GROUPS }, () => new GroupCounters());
  readonly #move: MoveContext;
  readonly #sweeper: Sweeper;
  #active = 0;
  #whenInactive: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RedisProviderOptions = {}) {
    const resolved = resolveRedisOptions(options);
    const client = resolved.client ?? createClient(resolved);
    this.#ownsClient = resolved.client === undefined;
    this.#cluster = client.isCluster === true;
    this.#link = new RedisLink(client, resolved.operationTimeoutMs, resolved.maxQueuedOps);
    this.#layout = new KeyLayout(resolved.prefix);
    this.#now = resolved.now;
    this.#limits = resolved.limits;
    this.#maxSessionsPerGroup = resolved.maxSessionsPerGroup;
    this.#move = {
      link: this.#link,
      layout: this.#layout,
      windowMs: 4 * resolved.operationTimeoutMs,
      onExpired: (group) => {
        (this.#groups[group] as GroupCounters).expired++;
      },
    };
    this.#sweeper = new Sweeper(this.#link, this.#layout, this.#groups);
    this.#sweeper.start(resolved.gcIntervalMs, this.#now, (work) => this.#op(work));
  }

  /** The key prefix in use. */
  get prefix(): string {
    return this.#layout.prefix;
  }

  init(sid: string, policy: SessionPolicy, initial?: SessionDelta): Promise<SessionMeta> {
    return this.#op(async () => {
      checkSid(sid);
      checkPolicy(policy);
      if (initial !== undefined) checkDelta(initial);
      const { pairs, bytes } = initialArgs(initial, this.#limits);
      const now = this.#now();
      const { group, keys } = this.#keys(sid);
      const args = [sid, num(now), num(policy.idleTimeoutMs), num(policy.absoluteTimeoutMs)];
      args.push(num(this.#maxSessionsPerGroup), num(bytes));
      const [meta, expired, evicted] = (await this.#call(sid, 'init', keys, [...args, ...pairs])) as [
        Buffer,
        number,
        number,
      ];
      const counters = this.#groups[group] as GroupCounters;
      counters.expired += expired;
      counters.evicted += evicted;
      return publicMeta(parseMeta(meta));
    });
  }

  read(sid: string): Promise<SessionSnapshot | null> {
    return this.#op(async () => {
      checkSid(sid);
      const { group, keys } = this.#keys(sid);
      const reply = await this.#call(sid, 'read', keys, [sid, num(this.#now())]);
      if (!Array.isArray(reply)) return this.#missing(group, reply);
      const { meta, values } = parseHash(reply as Buffer[]);
      return { ...publicMeta(meta), values };
    });
  }

  commit(sid: string, delta: SessionDelta): Promise<SessionMeta | null> {
    return this.#op(async () => {
      checkSid(sid);
      checkDelta(delta);
      const changes = commitArgs(delta, this.#limits);
      const { group, keys } = this.#keys(sid);
      const { maxKeys, maxSessionBytes } = this.#limits;
      const args = [sid, num(this.#now()), num(maxKeys), num(maxSessionBytes), ...changes];
      const reply = await this.#call(sid, 'commit', keys, args);
      return Buffer.isBuffer(reply) ? publicMeta(parseMeta(reply)) : this.#missing(group, reply);
    });
  }

  incr(sid: string, key: string, by: number): Promise<number | null> {
    return this.#op(async () => {
      checkSid(sid);
      checkKey(key);
      checkIncrAmount(by);
      const { group, keys } = this.#keys(sid);
      const { maxKeys, maxSessionBytes, maxValueBytes } = this.#limits;
      const args = [
        sid,
        num(this.#now()),
        key,
        num(by),
        num(maxKeys),
        num(maxSessionBytes),
        num(maxValueBytes),
      ];
      const reply = await this.#call(sid, 'incr', keys, args);
      return Buffer.isBuffer(reply) ? parseNumber(reply) : this.#missing(group, reply);
    });
  }

  rename(oldSid: string, newSid: string): Promise<SessionMeta | null> {
    return this.#op(async () => {
      checkSid(oldSid);
      checkSid(newSid);
      const now = this.#now();
      const from = this.#keys(oldSid);
      const to = this.#keys(newSid);
      this.#groups[to.group]?.noteOp();
      if (this.#cluster && from.group !== to.group) {
        return this.#retryingStaleMove(oldSid, () => renameAcrossGroups(this.#move, oldSid, newSid, now));
      }
      const keys = [...from.keys, ...to.keys];
      const reply = await this.#call(oldSid, 'rename', keys, [oldSid, newSid, num(now)]);
      return Buffer.isBuffer(reply) ? publicMeta(parseMeta(reply)) : this.#missing(from.group, reply);
    });
  }

  destroy(sid: string): Promise<boolean> {
    return this.#op(async () => {
      checkSid(sid);
      const { group, keys } = this.#keys(sid);
      const reply = (await this.#call(sid, 'destroy', keys, [sid, num(this.#now())])) as number;
      if (reply === -1) (this.#groups[group] as GroupCounters).expired++;
      return reply === 1;
    });
  }

  gc(now?: number): Promise<number> {
    return this.#op(() => this.#sweeper.sweep(now ?? this.#now()));
  }

  count(): Promise<number> {
    return this.#op(async () => {
      const after = `(${num(this.#now())}`;
      const counts = await Promise.all(
        this.#groups.map((_, group) =>
          this.#link.command((client) => client.zcount(this.#layout.indexKey(group), after, '+inf')),
        ),
      );
      return counts.reduce((sum, n) => sum + Number(n), 0);
    });
  }

  stats(): Promise<ShardStats[]> {
    return this.#op(async () => {
      const sizes = await Promise.all(
        this.#groups.map((_, group) =>
          this.#link.command((client) => client.zcard(this.#layout.indexKey(group))),
        ),
      );
      const heapUsedBytes = process.memoryUsage().heapUsed;
      const queueDepth = this.#link.queueDepth;
      return this.#groups.map((counters, shard) => ({
        shard,
        threadId,
        sessions: Number(sizes[shard]),
        ops: counters.ops,
        batches: counters.batches,
        // The queue is the provider's, not a group's: it is reported once, on the first entry.
        queueDepth: shard === 0 ? queueDepth : 0,
        gcSweeps: counters.gcSweeps,
        gcMaxSliceMs: counters.gcMaxSliceMs,
        expired: counters.expired,
        evicted: counters.evicted,
        heapUsedBytes,
      }));
    });
  }

  /** Finishes the operations issued before it, stops the GC tick, and closes the client if it made it. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#sweeper.stop();
    if (this.#active > 0) await new Promise<void>((resolve) => (this.#whenInactive = resolve));
    await this.#link.close();
    if (!this.#ownsClient) return;
    const client = this.#link.client;
    await client.quit().catch(() => undefined);
  }

  /** Runs one operation: refused after close, counted so close can wait for it. Never throws synchronously. */
  async #op<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closing) throw new ClosedError();
    this.#active++;
    try {
      return await work();
    } finally {
      if (--this.#active === 0) this.#whenInactive?.();
    }
  }

  #keys(sid: string): { group: number; keys: [string, string] } {
    const group = groupOf(sid);
    (this.#groups[group] as GroupCounters).noteOp();
    return { group, keys: [this.#layout.sessionKey(sid, group), this.#layout.indexKey(group)] };
  }

  /** Calls a function on a session; a session frozen by an unfinished move is settled first, once. */
  #call(sid: string, name: Parameters<RedisLink['fcall']>[0], keys: string[], args: (string | Buffer)[]) {
    return this.#retryingStaleMove(sid, () => this.#link.fcall(name, keys, args));
  }

  async #retryingStaleMove<T>(sid: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof StaleMoveReply)) throw error;
      await settleStaleMove(this.#move, sid, error);
      return call();
    }
  }

  /** A function answered nil (no session) or 0 (it had expired and was removed now). */
  #missing(group: number, reply: unknown): null {
    if (reply === 0) (this.#groups[group] as GroupCounters).expired++;
    return null;
  }
}

/** Builds a 'redis' provider. Throws `InvalidOptionError` for a bad option or when ioredis is not installed. */
export function createRedisProvider(options?: RedisProviderOptions): RedisProvider {
  return new RedisProvider(options);
}
