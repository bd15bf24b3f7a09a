import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from './duration.js';
import { ClosedError, InvalidOptionError } from './errors.js';
import { beforeHeaders, type HeaderSink } from './http/before-headers.js';
import { DEFAULT_LIMITS } from './providers/limits.js';
import type {
  ProviderOptions,
  SessionPolicy,
  SessionProvider,
  ShardStats,
  StoreLimits,
} from './providers/provider.js';
import { createProvider } from './registry.js';
import { type RequestLink, Session, type SessionData, type SessionHost } from './session.js';
import { generateSid, isValidSid } from './sid.js';
import {
  expiredSessionCookie,
  isSecureRequest,
  type ResolvedCookieOptions,
  readCookie,
  resolveCookieOptions,
  type SessionCookieOptions,
  sessionCookie,
} from './transport/cookie.js';
import { DEFAULT_SESSION_HEADER, readHeader } from './transport/header.js';
import { createIdSigner, type IdSigner } from './transport/signing.js';
import { DEFAULT_SESSION_PARAM, readQueryParam, rewriteLinks } from './transport/url.js';

/** How the session id travels: a cookie, a request/response header (APIs), or a URL query parameter. */
export type TransportName = 'cookie' | 'header' | 'url';

/** Options of {@link createSessionManager}. Every one is validated at construction. */
export interface SessionManagerOptions {
  /** A registered provider name (`'sharded'`, `'memory'`, …) or a provider instance. Default `'sharded'`. */
  provider?: string | SessionProvider;
  /** Options for the registered provider's factory (e.g. `{ shards: 2 }`). Ignored with an instance. */
  providerOptions?: ProviderOptions & Record<string, unknown>;
  /** Name of the cookie. Default `'sid'`. */
  cookieName?: string;
  /** Sliding idle timeout (the classic maxlifetime), in ms or like `'30m'`. Default `'30m'`. */
  idleTimeout?: number | string;
  /** Absolute timeout from creation, in ms or like `'24h'`. Default `'24h'`. */
  absoluteTimeout?: number | string;
  /** Cookie attributes. Defaults: HttpOnly, SameSite=Lax, Path=/, Secure 'auto', persistent (Max-Age). */
  cookie?: SessionCookieOptions;
  /** HMAC-SHA256 secrets for the transported id: the first signs, all verify (rotation). Default: unsigned. */
  secrets?: string | readonly string[];
  /** Where the id is read from, in order of preference, and written to. Default `['cookie']`. */
  transports?: readonly TransportName[];
  /** Header of the `'header'` transport. Default `'x-session-id'`. */
  headerName?: string;
  /** Query parameter of the `'url'` transport. Default `'sid'`. */
  urlParam?: string;
  /** Trust `X-Forwarded-Proto` for Secure 'auto' (set it behind a TLS-terminating proxy). Default false. */
  trustProxy?: boolean;
  /** Store limits, passed to a named provider; `maxValueBytes` is also checked by `set` right away. */
  limits?: StoreLimits;
  /** The clock, in ms since the epoch; passed to a named provider too. Default `Date.now`. */
  now?: () => number;
  /** Receives failures of commits sent as the headers go out (nobody awaits those). Default: a process warning. */
  onError?: (error: unknown) => void;
}

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
  /** Per-shard numbers of the provider. */
  stats(): Promise<ShardStats[]>;
  /** Closes the provider (flushes pending work, ends the shard threads). Later `start` calls reject `ClosedError`. */
  close(): Promise<void>;
}

/**
 * Slide the idle deadline with an empty commit only when more than this fraction of the idle timeout passed
 * since the last slide: a busy reader then costs one store write per 3 minutes (with 30m), not one per request,
 * and the session still never dies less than 90% of the idle timeout after its last use.
 */
export const TOUCH_FRACTION = 0.1;

// Longer transported values are not ids (43 chars, plus a 44-char signature and a dot): refuse them unread.
const MAX_TRANSPORTED_LENGTH = 128;
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Per-request state, kept off the request object so nothing user-visible changes. */
class RequestContext<Data extends object> implements RequestLink {
  session: Session<Data> | undefined;
  loading: Promise<Session<Data>> | undefined;
  /** The well-formed id the client presented, if any (live or not). */
  clientSid: string | undefined;
  destroyed = false;
  headersWritten = false;
  hooked = false;

  constructor(readonly lateDeliveryPossible: boolean) {}

  onDestroyed(): void {
    this.destroyed = true;
  }
}

function contextOf<Data extends object>(req: IncomingMessage, key: symbol): RequestContext<Data> | undefined {
  return (req as unknown as Record<symbol, RequestContext<Data> | undefined>)[key];
}

class Manager<Data extends object> implements SessionManager<Data> {
  readonly provider: SessionProvider;
  readonly policy: SessionPolicy;
  // The request's context is kept on the request under a symbol of this manager's own (invisible to users,
  // and two managers never collide). A WeakMap did the same job, but ephemeron tables with one entry per
  // request made the garbage collector a measurable share of every request under load.
  readonly #contextKey = Symbol('shard-session request context');
  readonly #host: SessionHost;
  readonly #signer: IdSigner;
  readonly #cookieName: string;
  readonly #cookie: ResolvedCookieOptions;
  readonly #transports: readonly TransportName[];
  readonly #headerName: string;
  readonly #urlParam: string;
  readonly #trustProxy: boolean;
  readonly #now: () => number;
  #closed = false;

  constructor(options: SessionManagerOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError('createSessionManager: options must be an object');
    }
    this.#now = options.now ?? Date.now;
    if (typeof this.#now !== 'function') throw new InvalidOptionError('now must be a function');
    const idleTimeoutMs = parseDuration('idleTimeout', options.idleTimeout ?? '30m');
    const absoluteTimeoutMs = parseDuration('absoluteTimeout', options.absoluteTimeout ?? '24h');
    this.policy = Object.freeze({ idleTimeoutMs, absoluteTimeoutMs });
    this.#cookieName = options.cookieName ?? 'sid';
    if (typeof this.#cookieName !== 'string' || !COOKIE_NAME.test(this.#cookieName)) {
      throw new InvalidOptionError(
        `cookieName must be a cookie-name token, got ${String(options.cookieName)}`,
      );
    }
    this.#cookie = validateCookie(options.cookie);
    this.#signer = createIdSigner(options.secrets);
    this.#transports = validateTransports(options.transports);
    this.#headerName = (options.headerName ?? DEFAULT_SESSION_HEADER).toLowerCase();
    if (!HEADER_NAME.test(this.#headerName)) {
      throw new InvalidOptionError(
        `headerName must be a header-name token, got ${String(options.headerName)}`,
      );
    }
    this.#urlParam = options.urlParam ?? DEFAULT_SESSION_PARAM;
    if (typeof this.#urlParam !== 'string' || this.#urlParam === '') {
      throw new InvalidOptionError('urlParam must be a non-empty string');
    }
    if (options.trustProxy !== undefined && typeof options.trustProxy !== 'boolean') {
      throw new InvalidOptionError('trustProxy must be a boolean');
    }
    this.#trustProxy = options.trustProxy ?? false;
    const onError = options.onError ?? defaultOnError;
    if (typeof onError !== 'function') throw new InvalidOptionError('onError must be a function');
    const maxValueBytes = options.limits?.maxValueBytes ?? DEFAULT_LIMITS.maxValueBytes;
    this.provider = resolveProvider(options, this.#now);
    const signer = this.#signer;
    this.#host = {
      provider: this.provider,
      policy: this.policy,
      now: this.#now,
      maxValueBytes,
      touchAfterMs: idleTimeoutMs * TOUCH_FRACTION,
      transportValue: (sid) => signer.sign(sid),
      urlParam: this.#transports.includes('url') ? this.#urlParam : undefined,
      reportError: (error) => {
        try {
          onError(error);
        } catch {
          // A throwing error handler must not turn into an unhandled rejection.
        }
      },
    };
  }

  start(req: IncomingMessage, res: ServerResponse): Promise<Session<Data>> {
    if (this.#closed) return Promise.reject(new ClosedError('session manager is closed'));
    const context = this.#context(req, res);
    if (context.session && !context.session.destroyed) return Promise.resolve(context.session);
    if (context.loading) return context.loading;
    const loading = this.#load(req, res, context).finally(() => {
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
    const sid = this.#readClientSid(req);
    if (sid !== undefined) await this.provider.destroy(sid);
  }

  current(req: IncomingMessage): Session<Data> | undefined {
    return contextOf<Data>(req, this.#contextKey)?.session;
  }

  rewriteLinks(html: string, session: Session<Data>): string {
    if (!this.#transports.includes('url') || session.destroyed) return html;
    return rewriteLinks(html, this.#urlParam, this.#signer.sign(session.id));
  }

  count(): Promise<number> {
    return this.provider.count();
  }

  stats(): Promise<ShardStats[]> {
    return this.provider.stats();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.provider.close();
  }

  #context(req: IncomingMessage, res: ServerResponse): RequestContext<Data> {
    let context = contextOf<Data>(req, this.#contextKey);
    if (!context) {
      context = new RequestContext<Data>(this.#transports.includes('url'));
      (req as unknown as Record<symbol, RequestContext<Data>>)[this.#contextKey] = context;
    }
    if (!context.hooked) {
      context.hooked = true;
      const ctx = context;
      if (!beforeHeaders(res, (sink) => this.#beforeHeaders(req, ctx, sink))) ctx.headersWritten = true;
    }
    return context;
  }

  async #load(
    req: IncomingMessage,
    _res: ServerResponse,
    context: RequestContext<Data>,
  ): Promise<Session<Data>> {
    // After a destroy in this request, the client's id is dead: never re-read it (the classic resurrection bug).
    const sid = context.destroyed ? undefined : this.#readClientSid(req);
    let session: Session<Data>;
    if (sid !== undefined) {
      context.clientSid = sid;
      const snapshot = await this.provider.read(sid);
      session = snapshot
        ? new Session<Data>(this.#host, context, sid, snapshot)
        : new Session<Data>(this.#host, context, generateSid());
    } else {
      session = new Session<Data>(this.#host, context, generateSid());
    }
    context.session = session;
    return session;
  }

  /** The first well-formed, correctly signed id among the enabled transports, in their order. */
  #readClientSid(req: IncomingMessage): string | undefined {
    for (const transport of this.#transports) {
      const value =
        transport === 'cookie'
          ? readCookie(req, this.#cookieName)
          : transport === 'header'
            ? readHeader(req, this.#headerName)
            : readQueryParam(req, this.#urlParam);
      if (value === undefined || value.length > MAX_TRANSPORTED_LENGTH) continue;
      const sid = this.#signer.unsign(value);
      if (sid !== null && isValidSid(sid)) return sid;
    }
    return undefined;
  }

  // Runs once, as the response's headers go out: sends this request's changes (without waiting: the store's
  // ordered channel applies them before any later read of the id) and writes the id where it must travel.
  #beforeHeaders(req: IncomingMessage, context: RequestContext<Data>, sink: HeaderSink): void {
    const session = context.session;
    if (session && !session.destroyed) session.flush(true);
    context.headersWritten = true;
    // The answer depends on the id the request carried: caches must not share it across clients.
    const useCookie = this.#transports.includes('cookie');
    if (useCookie) sink.addVary('Cookie');
    if (this.#transports.includes('header')) sink.addVary(this.#headerName);
    if (session?.stored) {
      const changed = session.id !== context.clientSid;
      const value = this.#signer.sign(session.id);
      if (useCookie && (changed || session.rolled)) {
        const maxAgeSeconds = Math.ceil((session.expiresAt - this.#now()) / 1000);
        sink.appendSetCookie(
          sessionCookie(this.#cookieName, value, this.#cookie, this.#secure(req), maxAgeSeconds),
        );
      }
      if (changed && this.#transports.includes('header')) sink.setHeader(this.#headerName, value);
    } else if (context.destroyed && useCookie) {
      sink.appendSetCookie(expiredSessionCookie(this.#cookieName, this.#cookie, this.#secure(req)));
    }
  }

  #secure(req: IncomingMessage): boolean {
    const secure = this.#cookie.secure;
    return secure === 'auto' ? isSecureRequest(req, this.#trustProxy) : secure;
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

function resolveProvider(options: SessionManagerOptions, now: () => number): SessionProvider {
  const provider = options.provider ?? 'sharded';
  if (typeof provider === 'string') {
    const providerOptions = { ...options.limits, now, ...options.providerOptions };
    return createProvider(provider, providerOptions);
  }
  const methods = ['init', 'read', 'commit', 'incr', 'rename', 'destroy', 'count', 'stats', 'close'] as const;
  if (
    provider === null ||
    typeof provider !== 'object' ||
    methods.some((m) => typeof (provider as unknown as Record<string, unknown>)[m] !== 'function')
  ) {
    throw new InvalidOptionError(
      'provider must be a registered name or an object implementing SessionProvider',
    );
  }
  return provider;
}

function validateTransports(transports: readonly TransportName[] | undefined): readonly TransportName[] {
  if (transports === undefined) return ['cookie'];
  const known: readonly string[] = ['cookie', 'header', 'url'];
  if (
    !Array.isArray(transports) ||
    transports.length === 0 ||
    transports.some((t) => !known.includes(t)) ||
    new Set(transports).size !== transports.length
  ) {
    throw new InvalidOptionError(
      "transports must be a non-empty list of distinct names among 'cookie', 'header' and 'url'",
    );
  }
  return Object.freeze([...transports]);
}

function validateCookie(options: SessionCookieOptions | undefined): ResolvedCookieOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidOptionError('cookie must be an object');
  }
  const cookie = resolveCookieOptions(options);
  if (cookie.secure !== 'auto' && typeof cookie.secure !== 'boolean') {
    throw new InvalidOptionError("cookie.secure must be 'auto', true or false");
  }
  if (!['lax', 'strict', 'none', false].includes(cookie.sameSite)) {
    throw new InvalidOptionError("cookie.sameSite must be 'lax', 'strict', 'none' or false");
  }
  if (cookie.sameSite === 'none' && cookie.secure === false) {
    throw new InvalidOptionError(
      "cookie.sameSite 'none' needs a Secure cookie: browsers reject it otherwise",
    );
  }
  if (typeof cookie.path !== 'string' || !cookie.path.startsWith('/')) {
    throw new InvalidOptionError("cookie.path must start with '/'");
  }
  for (const flag of ['httpOnly', 'partitioned', 'persistent'] as const) {
    if (typeof cookie[flag] !== 'boolean') throw new InvalidOptionError(`cookie.${flag} must be a boolean`);
  }
  if (cookie.domain !== undefined && (typeof cookie.domain !== 'string' || cookie.domain === '')) {
    throw new InvalidOptionError('cookie.domain must be a non-empty string');
  }
  return cookie;
}

function defaultOnError(error: unknown): void {
  // Messages of store errors never contain session ids, so this is safe to log.
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), 'SessionCommitWarning');
}
