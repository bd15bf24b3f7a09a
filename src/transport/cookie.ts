import type { IncomingMessage } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import { InvalidOptionError } from '../errors.js';
import type { HeaderSink } from './before-headers.js';
import type { CarriesId, IdOutcome, IdTransport } from './id-transport.js';

/** Cookie attributes of the session cookie. */
export interface SessionCookieOptions {
  /** `Path`. Default `'/'`. */
  path?: string;
  /** `Domain`. Default none (host-only cookie). */
  domain?: string;
  /**
   * `Secure`: `'auto'` (default) sets it on TLS requests and, with `trustProxy`, on `X-Forwarded-Proto: https`;
   * always with a `__Host-` or `__Secure-` cookie name, and with `sameSite: 'none'`.
   */
  secure?: 'auto' | boolean;
  /** `SameSite`. Default `'lax'`. */
  sameSite?: 'lax' | 'strict' | 'none' | false;
  /** `HttpOnly`. Default true: page scripts cannot read the id. */
  httpOnly?: boolean;
  /** `Partitioned` (CHIPS). Default false. */
  partitioned?: boolean;
  /** Send `Max-Age` following the expiry policy (default true); false makes a browser-session cookie. */
  persistent?: boolean;
}

/** The cookie options with every default filled in. */
type ResolvedCookieOptions = Required<Omit<SessionCookieOptions, 'domain'>> & { domain?: string };

/** What the cookie transport needs from the manager's options. */
export interface CookieTransportOptions {
  /** Name of the cookie. Default `'sid'`. */
  readonly name?: string;
  readonly cookie?: SessionCookieOptions;
  /** Believe `X-Forwarded-Proto` for Secure 'auto'. */
  readonly trustProxy: boolean;
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The cookie transport (the default): reads the id from the `Cookie` header and writes it with `Set-Cookie`
 * when it is new or changed, again with a new `Max-Age` when the deadline slid (only if the id came in the
 * cookie), and as an expired cookie when the session was destroyed. Every response that read a session adds
 * `Vary: Cookie`.
 * Its options are validated here, at construction, with the `cookie` library's own rules, so a bad
 * attribute is an `InvalidOptionError` now rather than a 500 on every request later.
 */
export function createCookieTransport(options: CookieTransportOptions): IdTransport {
  const name = options.name ?? 'sid';
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw new InvalidOptionError(`cookieName must be a cookie-name token, got ${String(options.name)}`);
  }
  const attributes = validateCookieOptions(options.cookie);
  checkPrefixRules(name, attributes);
  const trustProxy = options.trustProxy;
  // A browser drops a prefixed cookie, or a SameSite=None one, that is not Secure: for those, 'auto' means always.
  const alwaysSecure =
    attributes.secure === true || prefixOf(name) !== undefined || attributes.sameSite === 'none';
  let warned = false;
  const secure = (req: IncomingMessage): boolean => {
    if (alwaysSecure) return true;
    if (attributes.secure === false) return false;
    if (isSecureRequest(req, trustProxy)) return true;
    if (!warned && !trustProxy && forwardedProto(req) === 'https') {
      // Once per manager: the setting is wrong for every request, and a warning per request floods the log.
      warned = true;
      process.emitWarning(
        `the session cookie ${JSON.stringify(name)} goes out without Secure: a request says X-Forwarded-Proto: https, ` +
          "but trustProxy is false, so Secure 'auto' sees plain HTTP. Behind a TLS-terminating proxy, set " +
          'trustProxy: true (or cookie.secure: true).',
        { type: 'SessionSecurityWarning', code: 'SHARD_SESSION_UNTRUSTED_FORWARDED_PROTO' },
      );
    }
    return false;
  };
  return {
    name: 'cookie',
    read: (req) => readCookie(req, name),
    write(sink: HeaderSink, req: IncomingMessage, outcome: IdOutcome, carries: CarriesId): void {
      sink.addVary('Cookie');
      if (outcome.kind === 'live') {
        if (!outcome.changed && !outcome.rolled) return;
        // A slid deadline refreshes the cookie the client sent (re-signed with the current secret), never one it
        // did not send: an id that came in a link or a header (someone else's link, an API client) is not made
        // this browser's cookie.
        if (!outcome.changed && !carries(readCookie(req, name), outcome.value)) return;
        const maxAge = attributes.persistent
          ? { maxAge: Math.max(0, Math.ceil(outcome.expiresInMs / 1000)) }
          : {};
        sink.appendSetCookie(
          stringifySetCookie({ ...cookieOf(name, outcome.value, attributes, secure(req)), ...maxAge }),
        );
      } else if (outcome.kind === 'ended') {
        // The browser drops a cookie only when name, path and domain match the one it holds.
        const expired = { ...cookieOf(name, '', attributes, secure(req)), maxAge: 0, expires: new Date(0) };
        sink.appendSetCookie(stringifySetCookie(expired));
      }
    },
  };
}

/**
 * The values of the cookie `name` in the request, in the header's order: one string in the usual case, an array
 * when the name is repeated (the browser sends the most specific path first; a sibling subdomain can also
 * toss in a cookie of the same name, so the caller tries each), or undefined. The `cookie` package never
 * throws on malformed input: bad percent-encoding leaves the raw text, which then fails the id shape check.
 */
export function readCookie(req: IncomingMessage, name: string): string | readonly string[] | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string' || header === '') return undefined;
  const at = header.indexOf(name);
  // Cheap reject before parsing every cookie of the header.
  if (at < 0) return undefined;
  // The name appears once (the usual case): the one parse of the header, as before duplicates were handled.
  if (header.indexOf(name, at + name.length) < 0) return parseCookie(header)[name];
  return allCookieValues(header, name);
}

/**
 * Every value of cookie `name` in `header`, in order, each pair read by the `cookie` package itself, so that a
 * repeated cookie reads exactly as a lone one does (trimmed of spaces and tabs, percent-decoded when it decodes,
 * surrounding quotes kept: a quoted id is not the id that was set, alone or repeated).
 */
function allCookieValues(header: string, name: string): string | readonly string[] | undefined {
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const value = parseCookie(pair)[name];
    if (value !== undefined) values.push(value);
  }
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
}

/** True when the request reached us over TLS, or over a trusted proxy that says it did. */
export function isSecureRequest(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted === true) return true;
  return trustProxy && forwardedProto(req) === 'https';
}

/** The protocol the first proxy saw, from `X-Forwarded-Proto`, in lower case. */
function forwardedProto(req: IncomingMessage): string | undefined {
  const proto = req.headers['x-forwarded-proto'];
  return (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
}

/** The cookie-name prefix (RFC 6265bis) `name` starts with, matched in any case as browsers match it. */
function prefixOf(name: string): '__Host-' | '__Secure-' | undefined {
  const lower = name.slice(0, 9).toLowerCase();
  if (lower.startsWith('__host-')) return '__Host-';
  if (lower === '__secure-') return '__Secure-';
  return undefined;
}

/**
 * A browser refuses a `__Secure-` cookie without Secure, and a `__Host-` cookie without Secure, with a Domain
 * or with a Path other than '/': with such options every Set-Cookie would be dropped and no session would
 * ever stick. Refused here, at construction.
 */
function checkPrefixRules(name: string, cookie: ResolvedCookieOptions): void {
  const prefix = prefixOf(name);
  if (prefix === undefined) return;
  if (cookie.secure === false) {
    throw new InvalidOptionError(
      `a ${prefix} cookie name needs cookie.secure true or 'auto' (browsers drop it otherwise)`,
    );
  }
  if (prefix === '__Host-' && cookie.path !== '/') {
    throw new InvalidOptionError(
      `a __Host- cookie name needs cookie.path '/', got ${JSON.stringify(cookie.path)}`,
    );
  }
  if (prefix === '__Host-' && cookie.domain !== undefined) {
    throw new InvalidOptionError('a __Host- cookie name cannot have cookie.domain (it is bound to the host)');
  }
}

// The attributes both cookies share: a browser only replaces or drops a cookie whose name, path and domain match.
function cookieOf(name: string, value: string, options: ResolvedCookieOptions, secure: boolean) {
  return {
    name,
    value,
    path: options.path,
    ...(options.domain === undefined ? {} : { domain: options.domain }),
    httpOnly: options.httpOnly,
    secure,
    ...(options.sameSite === false ? {} : { sameSite: options.sameSite }),
    partitioned: options.partitioned,
  };
}

/** Fills in the secure defaults (HttpOnly, SameSite=Lax, Path=/, Secure 'auto', persistent) and checks every attribute. */
function validateCookieOptions(options: SessionCookieOptions | undefined): ResolvedCookieOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidOptionError('cookie must be an object');
  }
  const known = ['path', 'domain', 'secure', 'sameSite', 'httpOnly', 'partitioned', 'persistent'];
  for (const key of Object.keys(options ?? {})) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(`unknown option cookie.${key} (known: ${known.join(', ')})`);
    }
  }
  // `=== undefined`, not `??`: a null is a mistake to report, not a request for the default.
  const given = <K extends keyof SessionCookieOptions>(
    key: K,
    fallback: NonNullable<SessionCookieOptions[K]>,
  ) => (options?.[key] === undefined ? fallback : (options[key] as NonNullable<SessionCookieOptions[K]>));
  const cookie: ResolvedCookieOptions = {
    path: given('path', '/'),
    ...(options?.domain === undefined ? {} : { domain: options.domain }),
    secure: given('secure', 'auto'),
    sameSite: given('sameSite', 'lax'),
    httpOnly: given('httpOnly', true),
    partitioned: given('partitioned', false),
    persistent: given('persistent', true),
  };
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
  for (const flag of ['httpOnly', 'partitioned', 'persistent'] as const) {
    if (typeof cookie[flag] !== 'boolean') throw new InvalidOptionError(`cookie.${flag} must be a boolean`);
  }
  if (typeof cookie.path !== 'string' || !cookie.path.startsWith('/')) {
    throw new InvalidOptionError("cookie.path must start with '/'");
  }
  if (cookie.domain !== undefined && (typeof cookie.domain !== 'string' || cookie.domain === '')) {
    throw new InvalidOptionError('cookie.domain must be a non-empty string');
  }
  // The `cookie` library refuses to write a Domain or Path outside its grammar (RFC 6265): ask it now.
  try {
    stringifySetCookie({ name: 'x', value: 'x', path: cookie.path, domain: cookie.domain });
  } catch (error) {
    const what = /domain/i.test(String(error))
      ? `cookie.domain ${JSON.stringify(cookie.domain)}`
      : `cookie.path ${JSON.stringify(cookie.path)}`;
    throw new InvalidOptionError(`${what} is not a valid cookie attribute (RFC 6265)`);
  }
  return cookie;
}
