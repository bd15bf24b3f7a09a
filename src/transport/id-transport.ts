import type { IncomingMessage } from 'node:http';
import type { HeaderSink } from './before-headers.js';

/** How the session id travels: a cookie, a request/response header (APIs), or a URL query parameter. */
export type TransportName = 'cookie' | 'header' | 'url';

/** What became of the request's session, as the response's headers go out. */
export type IdOutcome =
  /** The store holds the session: `value` is its transported (maybe signed) id. */
  | {
      readonly kind: 'live';
      readonly value: string;
      /** The id differs from the one the client sent (new session, regenerate): the client must learn it. */
      readonly changed: boolean;
      /** The deadline moved noticeably: a persistent cookie should get a new Max-Age. */
      readonly rolled: boolean;
      /** Ms until the session dies unless used again. */
      readonly expiresInMs: number;
    }
  /**
   * The store holds the session and the client already has its id and deadline (nothing changed, nothing
   * rolled): nothing to send but `Vary`. Its own kind, so that the usual response signs nothing and builds no
   * outcome (a shared constant).
   */
  | { readonly kind: 'unchanged' }
  /** The session was destroyed in this request: the client should forget its id. */
  | { readonly kind: 'ended' }
  /** Nothing is stored (a new session nobody wrote to): nothing to tell the client. */
  | { readonly kind: 'none' };

/**
 * One way the id travels between client and server. The manager reads the id through the enabled
 * transports in order and, once per response, lets each write what the client must learn.
 */
export interface IdTransport {
  readonly name: TransportName;
  /**
   * The transported value the request carries (unverified: the caller unsigns and shape-checks it); several,
   * in the request's order, when it carries more than one (cookies of the same name). A single value is a
   * plain string: the common case allocates no array.
   */
  read(req: IncomingMessage): string | readonly string[] | undefined;
  /**
   * Writes what the response must carry about the id; runs once, just before the headers go out. `carries`
   * tells whether values this transport read from the request hold the id of `value` (whichever secret signed
   * them): a transport that only refreshes what the client already holds asks it.
   */
  write(sink: HeaderSink, req: IncomingMessage, outcome: IdOutcome, carries: CarriesId): void;
}

/** Whether the transported values `sent` (as `read` gave them) hold the same id as the transported `value`. */
export type CarriesId = (sent: string | readonly string[] | undefined, value: string) => boolean;
