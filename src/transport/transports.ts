import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors.js';
import { isValidSid } from '../sid.js';
import type { HeaderSink } from './before-headers.js';
import { createCookieTransport, type SessionCookieOptions } from './cookie.js';
import { createHeaderTransport } from './header.js';
import type { CarriesId, IdOutcome, IdTransport, TransportName } from './id-transport.js';
import { createIdSigner, type IdSigner } from './signing.js';
import { createUrlTransport, DEFAULT_SESSION_PARAM } from './url.js';

/** The manager's options that say how the id travels. Each transport validates its own. */
export interface TransportOptions {
  readonly transports?: readonly TransportName[] | undefined;
  readonly cookieName?: string | undefined;
  readonly cookie?: SessionCookieOptions | undefined;
  readonly headerName?: string | undefined;
  readonly urlParam?: string | undefined;
  readonly trustProxy?: boolean | undefined;
  readonly secrets?: string | readonly string[] | undefined;
}

// Longer transported values are not ids (43 chars, plus a 44-char signature and a dot): refuse them unread.
const MAX_TRANSPORTED_LENGTH = 128;
// Well-formed ids tried per request (cookies of one name, then the other transports): enough for a path-specific
// cookie plus a few tossed in by a sibling subdomain; past it a request costs no more store reads.
const MAX_CLIENT_IDS = 8;
const TRANSPORT_NAMES: readonly TransportName[] = ['cookie', 'header', 'url'];

/**
 * The enabled transports, in order of preference, with the signer they share: where the manager reads
 * the client's id from and writes the id to. Nothing here knows about sessions or stores.
 */
export class IdTransports {
  readonly #list: readonly IdTransport[];
  readonly #signer: IdSigner;
  /** The URL transport's query parameter when it is enabled (links then carry the id), else undefined. */
  readonly urlParam: string | undefined;

  constructor(options: TransportOptions) {
    const names = validateNames(options.transports);
    if (options.trustProxy !== undefined && typeof options.trustProxy !== 'boolean') {
      throw new InvalidOptionError('trustProxy must be a boolean');
    }
    this.#signer = createIdSigner(options.secrets);
    const urlParam = options.urlParam ?? DEFAULT_SESSION_PARAM;
    // Every transport checks its options, enabled or not: a bad option is a mistake either way.
    const all: Record<TransportName, IdTransport> = {
      cookie: createCookieTransport({
        name: options.cookieName,
        cookie: options.cookie,
        trustProxy: options.trustProxy ?? false,
      }),
      header: createHeaderTransport(options.headerName),
      url: createUrlTransport(urlParam),
    };
    // The URL's id comes last whatever its place in `transports`: anyone can send a link with their own id in
    // it, while a cookie or a header was kept by the client itself. A live one of those wins (no fixation).
    this.#list = [...names.filter((name) => name !== 'url'), ...names.filter((name) => name === 'url')].map(
      (name) => all[name],
    );
    this.urlParam = names.includes('url') ? urlParam : undefined;
  }

  /** The transported (maybe signed) form of an id. */
  sign(sid: string): string {
    return this.#signer.sign(sid);
  }

  /**
   * The well-formed, correctly signed ids the request carries, in order of preference and without repeats:
   * one string in the usual case, an array when there are several (the caller uses the first live one), or
   * undefined. The URL's ids come last.
   */
  readClientSids(req: IncomingMessage): string | readonly string[] | undefined {
    const list = this.#list;
    if (list.length === 1) {
      // The usual case (one transport, one value): no array, no loop.
      const read = (list[0] as IdTransport).read(req);
      if (typeof read === 'string') return this.#verify(read);
      if (read === undefined) return undefined;
    }
    const ids: string[] = [];
    for (const transport of list) {
      const read = transport.read(req);
      if (read === undefined) continue;
      for (const value of typeof read === 'string' ? [read] : read) {
        const sid = this.#verify(value);
        if (sid === undefined || ids.includes(sid)) continue;
        ids.push(sid);
        // Stop here: with secrets each further value would cost an HMAC, and a 16 KB Cookie header holds ~180.
        if (ids.length === MAX_CLIENT_IDS) return ids;
      }
    }
    return ids.length > 1 ? ids : ids[0];
  }

  /** The id inside a transported value, if it is well formed and correctly signed. */
  #verify(value: string): string | undefined {
    if (value.length > MAX_TRANSPORTED_LENGTH) return undefined;
    const sid = this.#signer.unsign(value);
    return sid !== null && isValidSid(sid) ? sid : undefined;
  }

  /** Lets every transport write what the response must carry about the id. */
  write(sink: HeaderSink, req: IncomingMessage, outcome: IdOutcome): void {
    for (const transport of this.#list) transport.write(sink, req, outcome, this.#carries);
  }

  /** One function for every response (no closure per request); asked only when a transport needs it. */
  readonly #carries: CarriesId = (sent, value) => {
    if (sent === undefined) return false;
    const sid = this.#verify(value);
    if (sid === undefined) return false;
    if (typeof sent === 'string') return this.#verify(sent) === sid;
    return sent.some((one) => this.#verify(one) === sid);
  };
}

function validateNames(transports: readonly TransportName[] | undefined): readonly TransportName[] {
  if (transports === undefined) return ['cookie'];
  if (
    !Array.isArray(transports) ||
    transports.length === 0 ||
    transports.some((t) => !TRANSPORT_NAMES.includes(t)) ||
    new Set(transports).size !== transports.length
  ) {
    throw new InvalidOptionError(
      "transports must be a non-empty list of distinct names among 'cookie', 'header' and 'url'",
    );
  }
  return Object.freeze([...transports]);
}
