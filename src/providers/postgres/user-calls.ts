import type { EventBatches } from '../event-batches.js';
import type { SessionEvent, UserSessionInfo } from '../provider.js';
import { RESULT_TYPES } from './batch-codec.js';
import type { Connections } from './connections.js';
import { eventOf } from './events.js';
import type { SchemaNames } from './schema-names.js';
import { EventCode } from './user-sql.js';

export interface UserCallsOptions {
  readonly connections: Connections;
  readonly names: SchemaNames;
  readonly now: () => number;
  readonly operationTimeoutMs: number;
  /** Resolves once the schema is in place. */
  readonly ready: (timeoutMs: number) => Promise<void>;
  /** Resolves once every operation this process issued before has been answered (every lane). */
  readonly drained: () => Promise<void>;
  readonly events: EventBatches;
}

/** A row of `sessions_of_v2`. */
interface ListedRow {
  readonly handle: string;
  readonly created_at: number;
  readonly last_seen_at: number;
  readonly expires_at: number;
  readonly label: string | null;
}

/** The lock timeout of a revocation, as a fraction of `operationTimeoutMs` (as for a batch). */
const LOCK_TIMEOUT_FRACTION = 0.5;

/**
 * The 'postgres' provider's calls on a user rather than a session (issue 13): listing and revoking. Each is one
 * statement of its own, answered from the partial index of bound sessions by user (never a scan), after every
 * operation this process issued before it has been answered: a `setUser` sent before `revokeUser` was called is
 * applied first, whichever lane it went by. Arguments are checked by the provider.
 */
export class UserCalls {
  readonly #options: UserCallsOptions;
  /** `revokeUser` calls under way, by user: a binding to that user issued meanwhile waits for them. */
  readonly #revoking = new Map<string, Promise<unknown>>();

  constructor(options: UserCallsOptions) {
    this.#options = options;
  }

  async sessionsOf(userId: string): Promise<UserSessionInfo[]> {
    const { names, now } = this.#options;
    const text = `SELECT handle, created_at, last_seen_at, expires_at, label FROM ${names.fn('sessions_of_v2')}($1, $2)`;
    const rows = (await this.#query(text, () => [userId, now()], 'listing sessions')) as ListedRow[];
    return rows.map((row) => ({
      handle: row.handle,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      expiresAt: row.expires_at,
      ...(row.label === null ? {} : { label: row.label }),
    }));
  }

  /**
   * What a binding to `userId` must wait for: the `revokeUser` of that user under way, if any. Without it, a
   * login issued after the call could reach the database before the revocation's statement and be ended by it
   * (the statement waits for the operations issued before the call, and runs on a connection of its own).
   */
  revocationOf(userId: string): Promise<unknown> | undefined {
    return this.#revoking.get(userId);
  }

  /** Every session of the user but `except`; how many were live. */
  revokeUser(userId: string, except: string | null): Promise<number> {
    const revoking = this.revoke(userId, null, except);
    const settled = revoking.catch(() => {});
    this.#revoking.set(userId, settled);
    void settled.then(() => {
      if (this.#revoking.get(userId) === settled) this.#revoking.delete(userId);
    });
    return revoking;
  }

  /** Destroys the user's session named `handle` (`except` undefined), or all but `except` (`handle` null). */
  async revoke(userId: string, handle: string | null, except: string | null): Promise<number> {
    const { names, now, operationTimeoutMs, events } = this.#options;
    const text = `SELECT handle, code FROM ${names.fn('revoke_v2')}($1, $2, $3, $4, $5)`;
    const lockTimeoutMs = Math.max(1, Math.floor(operationTimeoutMs * LOCK_TIMEOUT_FRACTION));
    const params = () => [userId, handle, except, now(), lockTimeoutMs];
    const rows = (await this.#query(text, params, 'revoking sessions')) as { handle: string; code: number }[];
    const ended: SessionEvent[] = rows.map((row) => eventOf(row.code, userId, row.handle));
    events.addAll(ended);
    // An expired session found on the way is removed too (with its 'expired' event), but it was not revoked.
    return rows.filter((row) => row.code === EventCode.Revoked).length;
  }

  /** Runs one statement after the operations issued before it, the whole within `operationTimeoutMs`. */
  async #query(text: string, params: () => unknown[], doing: string): Promise<unknown[]> {
    const { connections, operationTimeoutMs, ready, drained } = this.#options;
    const deadline = performance.now() + operationTimeoutMs;
    const left = () => Math.max(1, Math.ceil(deadline - performance.now()));
    await drained();
    await ready(left());
    // The clock is read once the earlier operations are applied: they ran at an earlier `now`.
    const query = { text, values: params(), types: RESULT_TYPES };
    return (await connections.query(query, doing, left())).rows;
  }
}
