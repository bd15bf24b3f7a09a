import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { ClosedError } from '../../errors.js';
import {
  checkDelta,
  checkHandle,
  checkIncrAmount,
  checkKey,
  checkLabel,
  checkPolicy,
  checkSid,
  checkUserId,
} from '../contract-checks.js';
import { EventBatches } from '../event-batches.js';
import type {
  SessionBinding,
  SessionDelta,
  SessionEvent,
  SessionMeta,
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
  UserSessionInfo,
} from '../provider.js';
import type { ResolvedLimits } from '../provider-options.js';
import { type BatchOp, RESULT_TYPES } from './batch-codec.js';
import { BatchLanes } from './batch-lanes.js';
import type { PostgresCounters } from './batch-queue.js';
import { countLiveSql, countRowsSql, OpKind } from './batch-sql.js';
import { Connections } from './connections.js';
import { checkInitialSize, checkStorableKey, resolveDelta } from './delta.js';
import { type PostgresProviderOptions, resolvePostgresOptions } from './options.js';
import { type OwnPool, openOwnPool } from './own-pool.js';
import type { SchemaNames } from './schema-names.js';
import { SchemaSetup } from './schema-setup.js';
import { Sweeper } from './sweeper.js';
import { UserCalls } from './user-calls.js';

/**
 * The 'postgres' provider: sessions in a PostgreSQL table the app's processes share. Each operation is a call
 * of a PL/pgSQL function that locks the session's row and compares every deadline with the app's clock; the
 * operations of one event-loop turn go as one statement (see `BatchQueue`). Arguments are checked here, at
 * the boundary, and answered with a rejected promise of a typed error.
 *
 * Issue 13's users, timeouts and events: a binding and a session's own timeouts are columns of its row (see
 * `user-sql.ts`), so they move and end with it; binding and retiming are operations of a batch, listing and
 * revoking statements of their own (`UserCalls`). Events come from the statements that began or ended a bound
 * session in this process: its batches, its GC and its revocations.
 */
export class PostgresProvider implements SessionProvider {
  readonly #limits: ResolvedLimits;
  readonly #now: () => number;
  readonly #names: SchemaNames;
  readonly #connections: Connections;
  readonly #ownPool: OwnPool | undefined;
  readonly #queue: BatchLanes;
  readonly #sweeper: Sweeper;
  readonly #timeoutMs: number;
  readonly #ready: (timeoutMs: number) => Promise<void>;
  readonly #counters: PostgresCounters = { ops: 0, batches: 0, expired: 0, gcSweeps: 0, gcMaxSliceMs: 0 };
  readonly #events = new EventBatches();
  readonly #users: UserCalls;
  #closing: Promise<void> | undefined;

  constructor(options: PostgresProviderOptions = {}) {
    const resolved = resolvePostgresOptions(options);
    const { limits, now, names, operationTimeoutMs } = resolved;
    this.#limits = limits;
    this.#now = now;
    this.#names = names;
    this.#timeoutMs = operationTimeoutMs;
    this.#ownPool = resolved.pool
      ? undefined
      : openOwnPool({ ...resolved, connectionString: resolved.connectionString as string });
    this.#connections = new Connections(resolved.pool ?? (this.#ownPool as OwnPool));
    const setup = new SchemaSetup(this.#connections, names, resolved.createSchema);
    const ready = (timeoutMs: number) => setup.ready(timeoutMs);
    this.#ready = ready;
    const counters = this.#counters;
    const connections = this.#connections;
    const events = this.#events;
    this.#queue = new BatchLanes(
      resolved.parallelBatches,
      {
        connections,
        names,
        limits,
        now,
        operationTimeoutMs,
        maxOpsPerStatement: resolved.maxOpsPerStatement,
        ready,
        counters,
        events,
      },
      resolved.maxQueuedOps,
    );
    this.#sweeper = new Sweeper({
      connections,
      names,
      now,
      intervalMs: resolved.gcIntervalMs,
      batchSize: resolved.gcBatchSize,
      timeoutMs: operationTimeoutMs,
      counters,
      ready,
      events,
    });
    this.#sweeper.start();
    const drained = () => this.#queue.drained();
    this.#users = new UserCalls({ connections, names, now, operationTimeoutMs, ready, drained, events });
  }

  async init(sid: string, policy: SessionPolicy, initial?: SessionDelta): Promise<SessionMeta> {
    this.#enter();
    checkSid(sid);
    checkPolicy(policy);
    if (initial !== undefined) checkDelta(initial);
    const { sets, valueBytes } = resolveDelta(initial, this.#limits);
    checkInitialSize({ sets, deletes: [], valueBytes }, this.#limits);
    const { idleTimeoutMs, absoluteTimeoutMs } = policy;
    const op: BatchOp = { kind: OpKind.Init, sid, num: idleTimeoutMs, num2: absoluteTimeoutMs, sets };
    return (await this.#queue.call(op, valueBytes)) as SessionMeta;
  }

  async read(sid: string): Promise<SessionSnapshot | null> {
    this.#enter();
    checkSid(sid);
    return (await this.#queue.call({ kind: OpKind.Read, sid })) as SessionSnapshot | null;
  }

  async commit(sid: string, delta: SessionDelta): Promise<SessionMeta | null> {
    this.#enter();
    checkSid(sid);
    checkDelta(delta);
    const { sets, deletes, valueBytes } = resolveDelta(delta, this.#limits);
    const op: BatchOp = { kind: OpKind.Commit, sid, sets, deletes };
    return (await this.#queue.call(op, valueBytes)) as SessionMeta | null;
  }

  async incr(sid: string, key: string, by: number): Promise<number | null> {
    this.#enter();
    checkSid(sid);
    checkKey(key);
    checkStorableKey(key);
    checkIncrAmount(by);
    return (await this.#queue.call({ kind: OpKind.Incr, sid, arg: key, num: by })) as number | null;
  }

  async rename(oldSid: string, newSid: string): Promise<SessionMeta | null> {
    this.#enter();
    checkSid(oldSid);
    checkSid(newSid);
    return (await this.#queue.call({ kind: OpKind.Rename, sid: oldSid, arg: newSid })) as SessionMeta | null;
  }

  async destroy(sid: string): Promise<boolean> {
    this.#enter();
    checkSid(sid);
    return (await this.#queue.call({ kind: OpKind.Destroy, sid })) as boolean;
  }

  async bindUser(sid: string, userId: string, label?: string): Promise<SessionBinding | null> {
    this.#enter();
    checkSid(sid);
    checkUserId(userId);
    checkLabel(label);
    // Drawn here for every binding, used by the database only when the session is not bound to `userId` yet.
    const handle = randomBytes(16).toString('base64url');
    const op: BatchOp = { kind: OpKind.Bind, sid, arg: userId, arg2: handle, arg3: label };
    // Queued at once (in call order) unless a revocation of this user is under way: then after it (a login
    // racing with "log out everywhere" survives it, as on the other providers).
    const revoking = this.#users.revocationOf(userId);
    if (revoking) await revoking;
    return (await this.#queue.call(op)) as SessionBinding | null;
  }

  async setTimeouts(sid: string, policy: SessionPolicy): Promise<SessionMeta | null> {
    this.#enter();
    checkSid(sid);
    checkPolicy(policy);
    const { idleTimeoutMs, absoluteTimeoutMs } = policy;
    const op: BatchOp = { kind: OpKind.SetTimeouts, sid, num: idleTimeoutMs, num2: absoluteTimeoutMs };
    return (await this.#queue.call(op)) as SessionMeta | null;
  }

  async sessionsOf(userId: string): Promise<UserSessionInfo[]> {
    this.#enter();
    checkUserId(userId);
    return this.#users.sessionsOf(userId);
  }

  async revoke(userId: string, handle: string): Promise<boolean> {
    this.#enter();
    checkUserId(userId);
    checkHandle(handle);
    return (await this.#users.revoke(userId, handle, null)) > 0;
  }

  async revokeUser(userId: string, except?: string): Promise<number> {
    this.#enter();
    checkUserId(userId);
    if (except !== undefined) checkHandle(except);
    return this.#users.revokeUser(userId, except ?? null);
  }

  /** Events of bound sessions this process began or ended, once per event-loop turn at most. */
  onEvents(receiver: (events: readonly SessionEvent[]) => void): void {
    this.#events.listen(receiver);
  }

  /** Deletes the sessions expired at `now`, in statements of `gcBatchSize` rows, after the operations issued before. */
  async gc(now?: number): Promise<number> {
    this.#enter();
    const deadline = performance.now() + this.#timeoutMs;
    await this.#queue.drained();
    return this.#sweeper.sweep(now ?? this.#now(), timeLeft(deadline));
  }

  /**
   * Live sessions, after the operations issued before: `SELECT count(*) … WHERE expires_at > now`, answered from
   * the deadline index (an index-only scan of every live entry: see the provider's documentation for its cost).
   * Like the in-memory providers it removes nothing: what expired is left to `gc()` and the GC tick, which
   * report what they remove (a count that swept first made a `gc()` right after it find nothing: the contract
   * suite's model caught it).
   */
  async count(): Promise<number> {
    this.#enter();
    // Bounded like every operation, from the call: the wait for the ones issued before included.
    const deadline = performance.now() + this.#timeoutMs;
    await this.#queue.drained();
    return this.#count(
      countLiveSql(this.#names),
      [this.#now()],
      'counting live sessions',
      timeLeft(deadline),
    );
  }

  async stats(): Promise<ShardStats[]> {
    this.#enter();
    const sessions = await this.#count(countRowsSql(this.#names), [], 'counting sessions');
    const { ops, batches, expired, gcSweeps, gcMaxSliceMs } = this.#counters;
    return [
      {
        shard: 0,
        threadId,
        sessions,
        ops,
        batches,
        queueDepth: this.#queue.depth,
        gcSweeps,
        gcMaxSliceMs,
        expired,
        evicted: 0,
        heapUsedBytes: process.memoryUsage().heapUsed,
      },
    ];
  }

  /** Answers what was issued before, stops the GC tick, and ends the pool if the provider opened it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#queue.close();
      await this.#sweeper.stop();
      await this.#ownPool?.end();
    })();
    return this.#closing;
  }

  async #count(text: string, values: unknown[], doing: string, timeoutMs = this.#timeoutMs): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    await this.#ready(timeoutMs);
    const query = { text, values, types: RESULT_TYPES };
    const { rows } = await this.#connections.query(query, doing, timeLeft(deadline));
    return Number((rows[0] as { n: string | number }).n);
  }

  #enter(): void {
    if (this.#closing) throw new ClosedError();
  }
}

/** Ms from now until `deadline` (a `performance.now()` time), at least 1. */
function timeLeft(deadline: number): number {
  return Math.max(1, Math.ceil(deadline - performance.now()));
}

/** Builds a 'postgres' provider. */
export function createPostgresProvider(options?: PostgresProviderOptions): PostgresProvider {
  return new PostgresProvider(options);
}
