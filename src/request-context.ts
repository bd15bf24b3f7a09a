import type { IncomingMessage } from 'node:http';
import type { RequestSession } from './request-session.js';
import type { RequestLink } from './session-writes.js';

/**
 * What the manager keeps about one request, from its first `start` or `destroy` until the response: the
 * session, the id the client presented, and whether the headers went out. It lives on the request under a
 * symbol of the manager's own (invisible to users, and two managers never collide): a WeakMap did the same
 * job, but ephemeron tables with one entry per request made the garbage collector a measurable share of
 * every request under load.
 */
export class RequestContext<Data extends object> implements RequestLink {
  session: RequestSession<Data> | undefined;
  loading: Promise<RequestSession<Data>> | undefined;
  /** The well-formed id the client presented, if any (live or not). */
  clientSid: string | undefined;
  destroyed = false;
  headersWritten = false;

  constructor(readonly lateDeliveryPossible: boolean) {}

  onDestroyed(): void {
    this.destroyed = true;
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
  ): RequestContext<Data> {
    const context = new RequestContext<Data>(lateDeliveryPossible);
    (req as unknown as Record<symbol, RequestContext<Data>>)[key] = context;
    return context;
  }
}
