import { ClosedError } from '../../errors.js';
import { checkDelta, checkIncrAmount, checkKey, checkPolicy, checkSid } from '../contract-checks.js';
import type {
  SessionDelta,
  SessionEvent,
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
import { EventInbox } from './event-inbox.js';
import { GroupCounters, TurnCounter } from './group-counters.js';
import { countLive, groupStats } from './group-queries.js';
import { groupOf, KeyLayout, SLOT_GROUPS } from './key-layout.js';
import type { FunctionName } from './lua/library.js';
import { type RedisProviderOptions, resolveRedisOptions } from './options.js';
import { RedisLink } from './redis-link.js';
import { parseNumber, parseSnapshot, StaleMoveReply, snapshotOf } from './replies.js';
import { decimal, parseMeta, publicMeta } from './session-meta.js';
import { Sweeper } from './sweeper.js';
import { RedisUserCalls } from './user-calls.js';

/**
 * The 'redis' provider: sessions in Redis or Redis Cluster, shared by every process that uses the same
 * prefix. One hash per session (a field per key, so a commit merges per key natively), one sorted set of
 * deadlines per slot group (count without scanning), and one Redis function per operation, each atomic on
 * one slot. Deadlines are compared with this provider's clock; Redis also expires each key at its deadline.
 * Operations issued in one event-loop turn leave as one pipeline per node; every one is bounded in time
 * (`operationTimeoutMs`) and in number (`maxQueuedOps`). See `key-layout.ts`, `lua/library.ts`,
 * `redis-link.ts` and `cluster-rename.ts` for each part, `user-calls.ts` for a user's sessions (issue 13),
 * and docs/redis.md for the guarantees.
 */
export class RedisProvider implements SessionProvider {
  readonly #link: RedisLink;
  readonly #layout: KeyLayout;
  readonly #now: () => number;
  readonly #limits: ResolvedLimits;
  readonly #maxSessionsArg: string;
  readonly #maxKeysArg: string;
  readonly #maxSessionBytesArg: string;
  readonly #maxValueBytesArg: string;
  readonly #cluster: boolean;
  readonly #ownsClient: boolean;
  readonly #timeoutMs: number;
  readonly #groups = Array.from({ length: SLOT_GROUPS }, () => new GroupCounters());
  readonly #turns = new TurnCounter(this.#groups);
  readonly #move: MoveContext;
  readonly #sweeper: Sweeper;
  readonly #inbox = new EventInbox();
  readonly #users: RedisUserCalls;
  #active = 0;
  #whenInactive: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RedisProviderOptions = {}) {
    const resolved = resolveRedisOptions(options);
    const client = resolved.client ?? createClient(resolved);
    this.#ownsClient = resolved.client === undefined;
    this.#cluster = client.isCluster === true;
    this.#link = new RedisLink(client, resolved.operationTimeoutMs, resolved.maxQueuedOps, this.#inbox);
    this.#timeoutMs = resolved.operationTimeoutMs;
    this.#layout = new KeyLayout(resolved.prefix);
    this.#now = resolved.now;
    this.#limits = resolved.limits;
    // The limits travel with every call as decimal strings: made once.
    this.#maxSessionsArg = decimal(resolved.maxSessionsPerGroup);
    this.#maxKeysArg = decimal(resolved.limits.maxKeys);
    this.#maxSessionBytesArg = decimal(resolved.limits.maxSessionBytes);
    this.#maxValueBytesArg = decimal(resolved.limits.maxValueBytes);
    this.#move = {
      link: this.#link,
      layout: this.#layout,
      windowMs: 4 * resolved.operationTimeoutMs,
      onExpired: (group) => {
        (this.#groups[group] as GroupCounters).expired++;
      },
      inbox: this.#inbox,
    };
    this.#users = new RedisUserCalls(this.#link, this.#layout, this.#now, this.#cluster, {
      checkOpen: () => this.#checkOpen(),
      call: (sid, name, args) => this.#call(sid, groupOf(sid), name, args),
      missing: (sid, reply) => this.#missing(groupOf(sid), reply),
    });
    this.#sweeper = new Sweeper(this.#link, this.#layout, this.#groups);
    this.#sweeper.start(resolved.gcIntervalMs, this.#now, (work) => this.#multiStep(work));
  }

  // Issue 13: a user's sessions, per-session timeouts, events (see user-calls.ts and event-inbox.ts).
  readonly bindUser = (...args: Parameters<RedisUserCalls['bindUser']>) => this.#users.bindUser(...args);
  readonly sessionsOf = (userId: string) => this.#users.sessionsOf(userId);
  readonly revoke = (userId: string, handle: string) => this.#users.revoke(userId, handle);
  readonly revokeUser = (userId: string, except?: string) => this.#users.revokeUser(userId, except);
  readonly setTimeouts = (sid: string, policy: SessionPolicy) => this.#users.setTimeouts(sid, policy);
  readonly onEvents = (receiver: (events: readonly SessionEvent[]) => void): void => {
    this.#inbox.onEvents(receiver);
  };

  /** The key prefix in use. */
  get prefix(): string {
    return this.#layout.prefix;
  }

  async init(sid: string, policy: SessionPolicy, initial?: SessionDelta): Promise<SessionMeta> {
    this.#checkOpen();
    checkSid(sid);
    checkPolicy(policy);
    if (initial !== undefined) checkDelta(initial);
    const { pairs, bytes } = initialArgs(initial, this.#limits);
    const group = groupOf(sid);
    const { idleTimeoutMs, absoluteTimeoutMs } = policy;
    const args = [
      decimal(this.#now()),
      decimal(idleTimeoutMs),
      decimal(absoluteTimeoutMs),
      this.#maxSessionsArg,
      decimal(bytes),
    ];
    const reply = await this.#call(sid, group, 'init', [...args, ...pairs]);
    const [meta, expired, evicted] = reply as [Buffer, number, number];
    const counters = this.#groups[group] as GroupCounters;
    counters.expired += expired;
    counters.evicted += evicted;
    return publicMeta(parseMeta(meta));
  }

  // The hottest operation, and the one that writes nothing: a plain HGETALL (~0.3 µs of Redis's time, where
  // a function costs ~5-10 µs), checked here with the provider's clock. Only a session found dead or being
  // moved goes through the read function, which removes it or settles its move atomically.
  async read(sid: string): Promise<SessionSnapshot | null> {
    this.#checkOpen();
    checkSid(sid);
    const group = groupOf(sid);
    this.#turns.note(group);
    const key = this.#layout.sessionKey(sid, group);
    const hash = await this.#link.read((client) => client.hgetallBuffer(key));
    const now = this.#now();
    const snapshot = snapshotOf(hash, now);
    if (snapshot !== undefined) return snapshot;
    const reply = await this.#call(sid, group, 'read', [decimal(now)]);
    return Array.isArray(reply) ? parseSnapshot(reply as Buffer[]) : this.#missing(group, reply);
  }

  async commit(sid: string, delta: SessionDelta): Promise<SessionMeta | null> {
    this.#checkOpen();
    checkSid(sid);
    checkDelta(delta);
    const changes = commitArgs(delta, this.#limits);
    const group = groupOf(sid);
    const args = [decimal(this.#now()), this.#maxKeysArg, this.#maxSessionBytesArg, ...changes];
    const reply = await this.#call(sid, group, 'commit', args);
    return Buffer.isBuffer(reply) ? publicMeta(parseMeta(reply)) : this.#missing(group, reply);
  }

  async incr(sid: string, key: string, by: number): Promise<number | null> {
    this.#checkOpen();
    checkSid(sid);
    checkKey(key);
    checkIncrAmount(by);
    const group = groupOf(sid);
    const args = [
      decimal(this.#now()),
      key,
      decimal(by),
      this.#maxKeysArg,
      this.#maxSessionBytesArg,
      this.#maxValueBytesArg,
    ];
    const reply = await this.#call(sid, group, 'incr', args);
    return Buffer.isBuffer(reply) ? parseNumber(reply) : this.#missing(group, reply);
  }

  async rename(oldSid: string, newSid: string): Promise<SessionMeta | null> {
    this.#checkOpen();
    checkSid(oldSid);
    checkSid(newSid);
    const now = this.#now();
    const [from, to] = [groupOf(oldSid), groupOf(newSid)];
    this.#turns.note(to);
    if (this.#cluster && from !== to) {
      this.#turns.note(from);
      // Three steps: counted, so that close() waits for the last one rather than cutting the move short.
      return this.#multiStep(() =>
        this.#settlingStaleMove(oldSid, () => renameAcrossGroups(this.#move, oldSid, newSid, now)),
      );
    }
    const newKey = this.#layout.sessionKey(newSid, to);
    const reply = await this.#call(oldSid, from, 'rename', [decimal(now)], newKey);
    return Buffer.isBuffer(reply) ? publicMeta(parseMeta(reply)) : this.#missing(from, reply);
  }

  async destroy(sid: string): Promise<boolean> {
    this.#checkOpen();
    checkSid(sid);
    const group = groupOf(sid);
    const reply = (await this.#call(sid, group, 'destroy', [decimal(this.#now())])) as number;
    if (reply === -1) (this.#groups[group] as GroupCounters).expired++;
    return reply === 1;
  }

  gc(now?: number): Promise<number> {
    return this.#multiStep(() => this.#sweeper.sweep(now ?? this.#now()));
  }

  count(): Promise<number> {
    return this.#multiStep(() => countLive(this.#link, this.#layout, SLOT_GROUPS, this.#now()));
  }

  stats(): Promise<ShardStats[]> {
    return this.#multiStep(() => groupStats(this.#link, this.#layout, this.#groups));
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
    // QUIT lets the replies in flight arrive; a Redis that does not answer it gets the socket closed after
    // the operation timeout, and the client stops reconnecting either way.
    const client = this.#link.client;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs);
    });
    await Promise.race([client.quit().catch(() => undefined), waited]);
    clearTimeout(timer);
    client.disconnect();
  }

  #checkOpen(): void {
    if (this.#closing) throw new ClosedError();
  }

  /**
   * Runs an operation of several Redis calls one after the other (a rename across slot groups, a sweep's
   * rounds): refused after close, and counted, so close() waits for its last call. An operation of one call
   * needs neither: the link waits for every call it was given before close. Never throws synchronously.
   */
  async #multiStep<T>(work: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    this.#active++;
    try {
      return await work();
    } finally {
      if (--this.#active === 0) this.#whenInactive?.();
    }
  }

  /**
   * Calls a function on the session `sid` (and, for a rename, on `otherKey` too). A session frozen by a
   * rename across slot groups that nobody finished is settled first, then the call is made again, once.
   */
  async #call(sid: string, group: number, name: FunctionName, args: (string | Buffer)[], otherKey?: string) {
    this.#turns.note(group);
    const key = this.#layout.sessionKey(sid, group);
    const keys = otherKey === undefined ? [key] : [key, otherKey];
    return this.#settlingStaleMove(sid, () => this.#link.fcall(name, keys, args));
  }

  async #settlingStaleMove<T>(sid: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof StaleMoveReply)) throw error;
      // Settled, the session is live or gone; if it is still frozen (another move), the caller gets the
      // StoreUnavailableError the reply is.
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
