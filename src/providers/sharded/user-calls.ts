import { checkHandle, checkLabel, checkPolicy, checkUserId } from '../contract-checks.js';
import type {
  SessionBinding,
  SessionEvent,
  SessionMeta,
  SessionPolicy,
  UserSessionInfo,
} from '../provider.js';
import { decodeBinding, decodeMeta, Op } from './protocol.js';
import type { ShardLink } from './shard-link.js';

type EventReceiver = (events: readonly SessionEvent[]) => void;

/**
 * The router's side of the 'sharded' provider's user operations (issue 13). Each shard indexes the bound
 * sessions it owns (user-index.ts): a binding and a timeout change go to the session's shard; listing and
 * revoking ask every shard at once (one operation each, in that turn's frame) and merge the answers. The
 * methods are bound (arrow functions): the provider exposes them as its own.
 */
export class UserCalls {
  readonly #owner: (sid: string) => ShardLink;
  readonly #everyShard: (op: readonly unknown[]) => Promise<unknown[]>;
  #receiver: EventReceiver | undefined;

  constructor(owner: (sid: string) => ShardLink, everyShard: (op: readonly unknown[]) => Promise<unknown[]>) {
    this.#owner = owner;
    this.#everyShard = everyShard;
  }

  readonly bindUser = async (sid: string, userId: string, label?: string): Promise<SessionBinding | null> => {
    const owner = this.#owner(sid);
    checkUserId(userId);
    checkLabel(label);
    return decodeBinding(await owner.call([Op.BindUser, sid, userId, label ?? null])) ?? null;
  };

  readonly sessionsOf = async (userId: string): Promise<UserSessionInfo[]> => {
    checkUserId(userId);
    const answers = await this.#everyShard([Op.SessionsOf, userId]);
    const list: UserSessionInfo[] = [];
    for (const flat of answers as unknown[][]) {
      for (let i = 0; i + 4 < flat.length; i += 5) {
        const [handle, createdAt, lastSeenAt, expiresAt, label] = flat.slice(i, i + 5) as [
          string,
          number,
          number,
          number,
          string | null,
        ];
        list.push({ handle, createdAt, lastSeenAt, expiresAt, ...(label === null ? {} : { label }) });
      }
    }
    return list;
  };

  readonly revoke = async (userId: string, handle: string): Promise<boolean> => {
    checkUserId(userId);
    checkHandle(handle);
    // Every shard: the session may be moving between two of them (a rename); each remembers the revocation.
    const answers = await this.#everyShard([Op.Revoke, userId, handle]);
    return answers.some((held) => held === true);
  };

  readonly revokeUser = async (userId: string, except?: string): Promise<number> => {
    checkUserId(userId);
    if (except !== undefined) checkHandle(except);
    const answers = await this.#everyShard([Op.RevokeUser, userId, except ?? null]);
    return answers.reduce((sum: number, n) => sum + (n as number), 0);
  };

  readonly setTimeouts = async (sid: string, policy: SessionPolicy): Promise<SessionMeta | null> => {
    const owner = this.#owner(sid);
    checkPolicy(policy);
    return decodeMeta(
      await owner.call([Op.SetTimeouts, sid, policy.idleTimeoutMs, policy.absoluteTimeoutMs]),
    );
  };

  readonly onEvents = (receiver: EventReceiver): void => {
    this.#receiver = receiver;
  };

  /** A shard's batch of events arrived: handed on as it came (one call per shard message). */
  readonly deliver = (events: readonly SessionEvent[]): void => {
    this.#receiver?.(events);
  };
}
