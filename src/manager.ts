import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UnawaitedCommitFailures } from './commit-failures.js';
import { ClosedError, UnsupportedError } from './errors.js';
import { resolveManagerOptions, type SessionManagerOptions } from './options.js';
import { checkHandle, checkUserId } from './providers/contract-checks.js';
import type {
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  ShardStats,
  UserSessionInfo,
} from './providers/provider.js';
import { RequestContext } from './request-context.js';
import { RequestSession } from './request-session.js';
import type { Session, SessionData } from './session.js';
import { type SessionEventListener, SessionEvents, type SessionEventType } from './session-events.js';
import type { SessionHost } from './session-writes.js';
import { generateSid } from './sid.js';
import { beforeHeaders, type HeaderSink } from './transport/before-headers.js';
import type { IdOutcome } from './transport/id-transport.js';
import type { IdTransports } from './transport/transports.js';
import { rewriteLinks } from './transport/url.js';

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

type UserMethod = 'sessionsOf' | 'revoke' | 'revokeUser';

const NO_SESSION: IdOutcome = { kind: 'none' };
const ENDED: IdOutcome = { kind: 'ended' };

/**
 * The request lifecycle: find the client's id, load its session (or make a new one), and as the response's
 * headers go out, send the request's changes and write the id where it travels. Options are checked in
 * `options.ts`; how the id travels is `transport/`; what a session does is `request-session.ts`.
 */
class Manager<Data extends object> implements SessionManager<Data> {
  readonly provider: SessionProvider;
  readonly policy: SessionPolicy;
  readonly #contextKey = Symbol('shard-session request context');
  readonly #host: SessionHost;
  readonly #transports: IdTransports;
  readonly #now: () => number;
  readonly #commitFailures: UnawaitedCommitFailures;
  readonly #events: SessionEvents;
  #closed = false;

  constructor(options: SessionManagerOptions) {
    const resolved = resolveManagerOptions(options);
    this.provider = resolved.provider;
    this.policy = resolved.policy;
    this.#now = resolved.now;
    const transports = resolved.transports;
    this.#transports = transports;
    this.#host = {
      provider: resolved.provider,
      policy: resolved.policy,
      maxTimeouts: resolved.maxTimeouts,
      now: resolved.now,
      maxValueBytes: resolved.maxValueBytes,
      touchAfterMs: resolved.touchAfterMs,
      transportValue: (sid) => transports.sign(sid),
      urlParam: transports.urlParam,
      reportError: (error) => resolved.commitFailures.report(error),
    };
    this.#commitFailures = resolved.commitFailures;
    this.#events = new SessionEvents(resolved.provider, (error) => resolved.commitFailures.report(error));
  }

  start(req: IncomingMessage, res: ServerResponse): Promise<Session<Data>> {
    if (this.#closed) return Promise.reject(new ClosedError('session manager is closed'));
    const context = this.#context(req, res);
    if (context.session && !context.session.destroyed) return Promise.resolve(context.session);
    if (context.loading) return context.loading;
    const loading = this.#load(req, context).finally(() => {
      context.loading = undefined;
    });
    context.loading = loading;
    return loading;
  }

  async destroy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#closed) throw new ClosedError('session manager is closed');
    const context = this.#context(req, res);
    if (context.loading) await context.loading.catch(() => undefined);
    const session = context.session;
    if (session && !session.destroyed) {
      await session.destroy();
      return;
    }
    if (context.destroyed) return;
    context.destroyed = true;
    // The session start() would have used: with several ids (a cookie and a link, tossed cookies), the live one.
    const ids = this.#transports.readClientSids(req);
    const sid =
      typeof ids === 'string' ? ids : ids === undefined ? undefined : (await this.#firstLive(ids))?.sid;
    if (sid !== undefined) await this.provider.destroy(sid);
  }

  current(req: IncomingMessage): Session<Data> | undefined {
    return RequestContext.of<Data>(req, this.#contextKey)?.session;
  }

  rewriteLinks(html: string, session: Session<Data>): string {
    const param = this.#transports.urlParam;
    if (param === undefined || session.destroyed) return html;
    return rewriteLinks(html, param, this.#transports.sign(session.id));
  }

  count(): Promise<number> {
    return this.provider.count();
  }

  async sessionsOf(userId: string): Promise<UserSessionInfo[]> {
    const provider = this.#users('sessionsOf');
    checkUserId(userId);
    const sessions = await provider.sessionsOf(userId);
    return sessions.sort((a, b) => a.createdAt - b.createdAt);
  }

  async revoke(userId: string, handle: string): Promise<boolean> {
    const provider = this.#users('revoke');
    checkUserId(userId);
    checkHandle(handle);
    return provider.revoke(userId, handle);
  }

  async revokeUser(userId: string, options: { except?: string | undefined } = {}): Promise<number> {
    const provider = this.#users('revokeUser');
    checkUserId(userId);
    if (options.except !== undefined) checkHandle(options.except);
    return provider.revokeUser(userId, options.except);
  }

  on(type: SessionEventType, listener: SessionEventListener): this {
    this.#events.on(type, listener);
    return this;
  }

  off(type: SessionEventType, listener: SessionEventListener): this {
    this.#events.off(type, listener);
    return this;
  }

  /** The provider, if it offers `method` (its 'users' capability); else `UnsupportedError`. */
  #users(method: UserMethod): Required<Pick<SessionProvider, UserMethod>> {
    if (this.#closed) throw new ClosedError('session manager is closed');
    if (typeof this.provider[method] !== 'function') {
      throw new UnsupportedError(`${method}: this provider does not index sessions by user (it lacks users)`);
    }
    return this.provider as Required<Pick<SessionProvider, UserMethod>>;
  }

  async stats(): Promise<ManagerStats> {
    const shards = await this.provider.stats();
    // A copy: a provider may hand out an array it keeps.
    return Object.assign([...shards], { unawaitedCommitFailures: this.#commitFailures.count });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.provider.close();
    } finally {
      this.#commitFailures.flush();
    }
  }

  /** The request's context; the first call puts it on the request and hooks the response's headers. */
  #context(req: IncomingMessage, res: ServerResponse): RequestContext<Data> {
    const existing = RequestContext.of<Data>(req, this.#contextKey);
    if (existing) return existing;
    const context = RequestContext.attach<Data>(
      req,
      this.#contextKey,
      this.#transports.urlParam !== undefined,
    );
    if (!beforeHeaders(res, (sink) => this.#beforeHeaders(req, context, sink))) context.headersWritten = true;
    return context;
  }

  async #load(req: IncomingMessage, context: RequestContext<Data>): Promise<RequestSession<Data>> {
    // After a destroy in this request, the client's id is dead: never re-read it (the classic resurrection bug).
    const ids = context.destroyed ? undefined : this.#transports.readClientSids(req);
    let sid: string | undefined;
    let snapshot: SessionSnapshot | null = null;
    if (typeof ids === 'string') {
      sid = ids;
      snapshot = await this.provider.read(sid);
    } else if (ids !== undefined) {
      const live = await this.#firstLive(ids);
      sid = live?.sid ?? ids[0];
      snapshot = live?.snapshot ?? null;
    }
    context.clientSid = sid;
    const session = snapshot
      ? new RequestSession<Data>(this.#host, context, sid as string, snapshot)
      : new RequestSession<Data>(this.#host, context, generateSid());
    context.session = session;
    return session;
  }

  /**
   * The first of `ids` the store holds, with its snapshot. They are read at once (one frame for a shard, one
   * pipeline for Redis) rather than one after another: a request with several ids is rare, and then one
   * round trip is what it costs.
   */
  async #firstLive(ids: readonly string[]): Promise<{ sid: string; snapshot: SessionSnapshot } | undefined> {
    const snapshots = await Promise.all(ids.map((id) => this.provider.read(id)));
    const index = snapshots.findIndex((snapshot) => snapshot !== null);
    return index < 0
      ? undefined
      : { sid: ids[index] as string, snapshot: snapshots[index] as SessionSnapshot };
  }

  // Runs once, as the response's headers go out: sends this request's changes (without waiting: the store's
  // ordered channel applies them before any later read of the id) and writes the id where it must travel.
  #beforeHeaders(req: IncomingMessage, context: RequestContext<Data>, sink: HeaderSink): void {
    const session = context.session;
    if (session && !session.destroyed) session.writes.flushInBackground();
    context.headersWritten = true;
    let outcome = context.destroyed ? ENDED : NO_SESSION;
    if (session?.stored) {
      outcome = {
        kind: 'live',
        value: this.#transports.sign(session.id),
        changed: session.id !== context.clientSid,
        rolled: session.writes.rolled,
        expiresInMs: session.expiresAt - this.#now(),
      };
    }
    this.#transports.write(sink, req, outcome);
  }
}

/**
 * Creates the session manager.
 *
 * ```ts
 * const manager = createSessionManager<{ count: number; user: string }>({ provider: 'sharded' });
 * http.createServer(async (req, res) => {
 *   const session = await manager.start(req, res);
 *   res.end(String(await session.incr('count')));
 * });
 * ```
 */
export function createSessionManager<Data extends object = SessionData>(
  options: SessionManagerOptions = {},
): SessionManager<Data> {
  return new Manager<Data>(options);
}
