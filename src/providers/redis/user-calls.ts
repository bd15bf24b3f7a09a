import { randomBytes } from 'node:crypto';
import { checkHandle, checkLabel, checkPolicy, checkSid, checkUserId } from '../contract-checks.js';
import type { SessionBinding, SessionMeta, SessionPolicy, UserSessionInfo } from '../provider.js';
import { type KeyLayout, SLOT_GROUPS } from './key-layout.js';
import type { FunctionName } from './lua/library.js';
import type { RedisLink } from './redis-link.js';
import { decimal, parseMeta, publicMeta } from './session-meta.js';

/**
 * How long each slot group of a Cluster remembers a revocation, for a bound session that a rename across
 * groups has in transit at that moment (the put into its new group is refused if it was bound before). A
 * move takes three calls of at most `operationTimeoutMs` each (default 1 s): a minute is ample. On one server
 * a rename is one atomic call and nothing is in transit: no tombstone is written.
 */
export const REVOCATION_MEMORY_MS = 60_000;

/** What the user calls need of the provider. */
export interface SessionCaller {
  /** Throws `ClosedError` once the provider is closing. */
  checkOpen(): void;
  /** Calls `name` on the session `sid` (settling a stale move first, counting the operation). */
  call(sid: string, name: FunctionName, args: string[]): Promise<unknown>;
  /** The function answered nil (no session) or 0 (it had expired and was removed now): counted, null. */
  missing(sid: string, reply: unknown): null;
}

/**
 * The 'redis' provider's operations of issue 13: binding a session to a user, its own timeouts (one call on
 * the session), and listing and revoking a user's sessions (one call with the 64 user index keys on one
 * server; one per slot group on a Cluster, where a call cannot reach keys of two slots; pipelined per node).
 * See `lua/user-functions.ts`. The methods are bound (arrow functions): the provider exposes them as its own.
 */
export class RedisUserCalls {
  readonly #link: RedisLink;
  readonly #now: () => number;
  readonly #cluster: boolean;
  readonly #sessions: SessionCaller;
  readonly #allIndexes: string[];

  constructor(
    link: RedisLink,
    layout: KeyLayout,
    now: () => number,
    cluster: boolean,
    sessions: SessionCaller,
  ) {
    this.#link = link;
    this.#now = now;
    this.#cluster = cluster;
    this.#sessions = sessions;
    this.#allIndexes = Array.from({ length: SLOT_GROUPS }, (_, group) => layout.indexKey(group));
  }

  readonly bindUser = async (sid: string, userId: string, label?: string): Promise<SessionBinding | null> => {
    this.#sessions.checkOpen();
    checkSid(sid);
    checkUserId(userId);
    checkLabel(label);
    const handle = randomBytes(16).toString('base64url');
    const args = [decimal(this.#now()), userId, handle, label === undefined ? '0' : '1', label ?? ''];
    const reply = await this.#sessions.call(sid, 'bind', args);
    if (!Array.isArray(reply)) return this.#sessions.missing(sid, reply);
    const [bound, boundLabel] = reply as [Buffer, Buffer | null];
    const binding = { userId, handle: bound.toString('latin1') };
    return boundLabel === null ? binding : { ...binding, label: boundLabel.toString('utf8') };
  };

  readonly setTimeouts = async (sid: string, policy: SessionPolicy): Promise<SessionMeta | null> => {
    this.#sessions.checkOpen();
    checkSid(sid);
    checkPolicy(policy);
    const args = [decimal(this.#now()), decimal(policy.idleTimeoutMs), decimal(policy.absoluteTimeoutMs)];
    const reply = await this.#sessions.call(sid, 'retime', args);
    return Buffer.isBuffer(reply) ? publicMeta(parseMeta(reply)) : this.#sessions.missing(sid, reply);
  };

  readonly sessionsOf = async (userId: string): Promise<UserSessionInfo[]> => {
    this.#sessions.checkOpen();
    checkUserId(userId);
    const answers = await this.#everyGroup('sessions_of', [decimal(this.#now()), userId]);
    const list: UserSessionInfo[] = [];
    for (const flat of answers as (Buffer | null)[][]) {
      for (let i = 0; i + 4 < flat.length; i += 5) {
        const [handle, createdAt, lastSeenAt, expiresAt, label] = flat.slice(i, i + 5);
        list.push({
          handle: String(handle),
          createdAt: Number(String(createdAt)),
          lastSeenAt: Number(String(lastSeenAt)),
          expiresAt: Number(String(expiresAt)),
          ...(label ? { label: label.toString('utf8') } : {}),
        });
      }
    }
    return list;
  };

  readonly revoke = async (userId: string, handle: string): Promise<boolean> => {
    this.#sessions.checkOpen();
    checkUserId(userId);
    checkHandle(handle);
    return (await this.#revoke(userId, handle, '')) > 0;
  };

  readonly revokeUser = async (userId: string, except?: string): Promise<number> => {
    this.#sessions.checkOpen();
    checkUserId(userId);
    if (except !== undefined) checkHandle(except);
    return this.#revoke(userId, '', except ?? '');
  };

  async #revoke(userId: string, only: string, except: string): Promise<number> {
    const remember = this.#cluster ? REVOCATION_MEMORY_MS : 0;
    const args = [decimal(this.#now()), userId, only, except, decimal(remember)];
    const answers = await this.#everyGroup('revoke', args);
    return answers.reduce((sum: number, n) => sum + (n as number), 0);
  }

  /** The function on every slot group's user index: one call on a server, one per group on a Cluster. */
  #everyGroup(name: FunctionName, args: string[]): Promise<unknown[]> {
    if (!this.#cluster) return Promise.all([this.#link.fcall(name, this.#allIndexes, args)]);
    return Promise.all(this.#allIndexes.map((index) => this.#link.fcall(name, [index], args)));
  }
}
