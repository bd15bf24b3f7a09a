import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UnawaitedCommitFailures } from './commit-failures.js';
import { ClosedError, UnsupportedError } from './errors.js';
import { resolveManagerOptions, type SessionManagerOptions } from './options.js';
import { checkHandle, checkUserId } from './providers/contract-checks.js';
import type {
  SessionPolicy,
  SessionProvider,
  SessionSnapshot,
  UserSessionInfo,
} from './providers/provider.js';
import { RequestContext } from './request-context.js';
import { RequestSession } from './request-session.js';
import type { Session, SessionData } from './session.js';
import { type SessionEventListener, SessionEvents, type SessionEventType } from './session-events.js';
import type { ManagerStats, SessionManager } from './session-manager.js';
import type { SessionHost } from './session-writes.js';
import { generateSid } from './sid.js';
import { beforeHeaders, type HeaderSink } from './transport/before-headers.js';
import type { IdOutcome } from './transport/id-transport.js';
import type { IdTransports } from './transport/transports.js';
import { rewriteLinks } from './transport/url.js';

export type { ManagerStats, SessionManager };

type UserMethod = 'sessionsOf' | 'revoke' | 'revokeUser';

const NO_SESSION: IdOutcome = { kind: 'none' };
const ENDED: IdOutcome = { kind: 'ended' };
const UNCHANGED: IdOutcome = { kind: 'unchanged' };

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
    // After a destroy in this request, the client's id is dead: never re-read it (the classic resurrection bug).
    const ids = context.destroyed ? undefined : this.#transports.readClientSids(req);
    // No id: a new session, without a store round trip (and without an async function's promise).
    if (ids === undefined) return Promise.resolve(this.#open(context, undefined, null));
    context.reading = true;
    const loading = this.#load(ids, context);
    // Unless it is over already (a provider that threw instead of rejecting), later calls share this load.
    if (context.reading) context.loading = loading;
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
      this.#headersGoingOut,
    );
    if (!beforeHeaders(res, context)) context.headersWritten = true;
    return context;
  }

  /**
   * Reads the client's session. `context.loading` is cleared once the read has answered (here, rather than with
   * a `.finally()` on the caller's side: one promise and two closures fewer per request).
   */
  async #load(ids: string | readonly string[], context: RequestContext<Data>): Promise<RequestSession<Data>> {
    let sid: string;
    let snapshot: SessionSnapshot | null;
    try {
      if (typeof ids === 'string') {
        sid = ids;
        snapshot = await this.provider.read(sid);
      } else {
        const live = await this.#firstLive(ids);
        sid = live?.sid ?? (ids[0] as string);
        snapshot = live?.snapshot ?? null;
      }
    } finally {
      context.reading = false;
      context.loading = undefined;
    }
    return this.#open(context, sid, snapshot);
  }

  /** The request's session: the client's (`snapshot`), or a new one when there is none. */
  #open(
    context: RequestContext<Data>,
    clientSid: string | undefined,
    snapshot: SessionSnapshot | null,
  ): RequestSession<Data> {
    context.clientSid = clientSid;
    const session = snapshot
      ? new RequestSession<Data>(this.#host, context, clientSid as string, snapshot)
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
  readonly #headersGoingOut = (context: RequestContext<Data>, sink: HeaderSink): void => {
    const session = context.session;
    if (session && !session.destroyed) session.writes.flushInBackground();
    context.headersWritten = true;
    let outcome = context.destroyed ? ENDED : NO_SESSION;
    if (session?.stored) {
      const changed = session.id !== context.clientSid;
      const rolled = session.writes.rolled;
      // The usual response (same id, deadline not rolled) signs nothing: an HMAC per response was half of the
      // signing cost the bench measured.
      outcome =
        changed || rolled
          ? {
              kind: 'live',
              value: this.#transports.sign(session.id),
              changed,
              rolled,
              expiresInMs: session.expiresAt - this.#now(),
            }
          : UNCHANGED;
    }
    this.#transports.write(sink, context.req, outcome);
  };
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
