import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionPolicy, SessionProvider, ShardStats, UserSessionInfo } from './providers/provider.js';
import type { Session, SessionData } from './session.js';
import type { SessionEventListener, SessionEventType } from './session-events.js';

/** The session engine: one per app. See {@link createSessionManager}. */
export interface SessionManager<Data extends object = SessionData> {
  /** The storage provider in use. */
  readonly provider: SessionProvider;
  /** The expiry policy every new session gets. */
  readonly policy: SessionPolicy;
  /**
   * The request's session: loads the one named by the client's id, or makes a new one (not stored until something
   * is set) when the id is missing, malformed, forged, expired or unknown. Calling it again in the same request
   * returns the same session; after a destroy it returns a genuinely new one. Rejects `OverloadedError` when the
   * store's queue is full.
   */
  start(req: IncomingMessage, res: ServerResponse): Promise<Session<Data>>;
  /** Destroys the request's session (started or not) and makes the response expire the cookie. */
  destroy(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The session `start` gave this request, if any. */
  current(req: IncomingMessage): Session<Data> | undefined;
  /** Rewrites local links in `html` to carry the session's id (URL transport only; unchanged otherwise). */
  rewriteLinks(html: string, session: Session<Data>): string;
  /** Live sessions (online users). */
  count(): Promise<number>;
  /**
   * The user's live sessions (bound with `session.setUser`), oldest first, from the provider's user index
   * (never a scan). Each is named by an opaque `handle`, never its id. Rejects `UnsupportedError` when the
   * provider lacks users.
   */
  sessionsOf(userId: string): Promise<UserSessionInfo[]>;
  /** Ends the user's session named by `handle`. Resolves whether it was live. */
  revoke(userId: string, handle: string): Promise<boolean>;
  /**
   * Ends every session of the user ("log out everywhere"), but the one whose handle is `except` (this device).
   * When it resolves, no session bound to the user before the call is usable. Resolves how many ended.
   */
  revokeUser(userId: string, options?: { except?: string | undefined }): Promise<number>;
  /**
   * Listens to the events of user-bound sessions: 'created' (bound at login), 'destroyed' (destroy, revoke),
   * 'expired', 'evicted'. Delivered in batches from the provider (for 'sharded', from the shards' GC ticks).
   * Throws `UnsupportedError` when the provider lacks events.
   */
  on(type: SessionEventType, listener: SessionEventListener): this;
  /** Removes a listener `on` added. */
  off(type: SessionEventType, listener: SessionEventListener): this;
  /** Per-shard numbers of the provider, and the manager's own (see {@link ManagerStats}). */
  stats(): Promise<ManagerStats>;
  /** Closes the provider (flushes pending work, ends the shard threads). Later `start` calls reject `ClosedError`. */
  close(): Promise<void>;
}

/**
 * What `manager.stats()` resolves: the provider's entries, one per shard (as `provider.stats()`), with the
 * manager's own counters as properties of the array.
 */
export type ManagerStats = ShardStats[] & {
  /**
   * Commits sent as the headers went out (nobody awaits them) that failed since the manager started: the
   * changes of those requests were lost. Each also went to `onError` or to a rate-limited process warning.
   */
  readonly unawaitedCommitFailures: number;
};
