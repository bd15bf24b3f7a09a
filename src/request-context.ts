import type { IncomingMessage } from 'node:http';
import type { RequestSession } from './request-session.js';
import type { RequestLink } from './session-writes.js';
import type { HeaderSink } from './transport/before-headers.js';

/** What the manager does as a request's headers go out (one function per manager, not one per request). */
export type HeadersGoingOut<Data extends object> = (context: RequestContext<Data>, sink: HeaderSink) => void;

/**
 * What the manager keeps about one request, from its first `start` or `destroy` until the response: the
 * session, the id the client presented, and whether the headers went out. It lives on the request under a
 * symbol of the manager's own (invisible to users, and two managers never collide): a WeakMap did the same
 * job, but ephemeron tables with one entry per request made the garbage collector a measurable share of
 * every request under load. It is also the response's before-headers hook, so that hooking a response makes
 * no closure.
 */
export class RequestContext<Data extends object> implements RequestLink {
  session: RequestSession<Data> | undefined;
  loading: Promise<RequestSession<Data>> | undefined;
  /** A read of the client's session is under way (set before `loading` is known). */
  reading = false;
  /** The well-formed id the client presented, if any (live or not). */
  clientSid: string | undefined;
  destroyed = false;
  headersWritten = false;
  readonly req: IncomingMessage;
  readonly lateDeliveryPossible: boolean;
  readonly #headersGoingOut: HeadersGoingOut<Data>;

  constructor(req: IncomingMessage, lateDeliveryPossible: boolean, headersGoingOut: HeadersGoingOut<Data>) {
    this.req = req;
    this.lateDeliveryPossible = lateDeliveryPossible;
    this.#headersGoingOut = headersGoingOut;
  }

  onDestroyed(): void {
    this.destroyed = true;
  }

  onDestroyFailed(): void {
    this.destroyed = false;
  }

  /** The before-headers hook (see transport/before-headers.ts). */
  beforeHeaders(sink: HeaderSink): void {
    this.#headersGoingOut(this, sink);
  }

  /** The context `key` holds on `req`, if any. */
  static of<Data extends object>(req: IncomingMessage, key: symbol): RequestContext<Data> | undefined {
    return (req as unknown as Record<symbol, RequestContext<Data> | undefined>)[key];
  }

  /** Puts a new context on `req` under `key`. */
  static attach<Data extends object>(
    req: IncomingMessage,
    key: symbol,
    lateDeliveryPossible: boolean,
    headersGoingOut: HeadersGoingOut<Data>,
  ): RequestContext<Data> {
    const context = new RequestContext<Data>(req, lateDeliveryPossible, headersGoingOut);
    (req as unknown as Record<symbol, RequestContext<Data>>)[key] = context;
    return context;
  }
}
