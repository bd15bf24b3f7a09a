import type { IncomingMessage } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';

/** Cookie attributes of the session cookie. */
export interface SessionCookieOptions {
  /** `Path`. Default `'/'`. */
  path?: string;
  /** `Domain`. Default none (host-only cookie). */
  domain?: string;
  /** `Secure`: `'auto'` (default) sets it on TLS requests and, with `trustProxy`, on `X-Forwarded-Proto: https`. */
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
export type ResolvedCookieOptions = Required<Omit<SessionCookieOptions, 'domain'>> & { domain?: string };

/** Fills in the secure defaults: HttpOnly, SameSite=Lax, Path=/, Secure 'auto', persistent. */
export function resolveCookieOptions(options: SessionCookieOptions = {}): ResolvedCookieOptions {
  return {
    path: options.path ?? '/',
    ...(options.domain === undefined ? {} : { domain: options.domain }),
    secure: options.secure ?? 'auto',
    sameSite: options.sameSite ?? 'lax',
    httpOnly: options.httpOnly ?? true,
    partitioned: options.partitioned ?? false,
    persistent: options.persistent ?? true,
  };
}

/**
 * The value of the cookie `name` in the request, or undefined. With repeated names the first wins (the
 * browser sends the most specific path first). The `cookie` package never throws on malformed input: bad
 * percent-encoding leaves the raw text, which then fails the id shape check.
 */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string' || header === '') return undefined;
  // Cheap reject before parsing every cookie of the header.
  if (!header.includes(name)) return undefined;
  return parseCookie(header)[name];
}

/** True when the request reached us over TLS, or over a trusted proxy that says it did. */
export function isSecureRequest(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted === true) return true;
  if (!trustProxy) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** A `Set-Cookie` value carrying `value`, valid for `maxAgeSeconds` (ignored when not persistent). */
export function sessionCookie(
  name: string,
  value: string,
  options: ResolvedCookieOptions,
  secure: boolean,
  maxAgeSeconds: number,
): string {
  return stringifySetCookie({
    ...attributes(name, value, options, secure),
    ...(options.persistent ? { maxAge: Math.max(0, maxAgeSeconds) } : {}),
  });
}

/** A `Set-Cookie` value that makes the browser drop the cookie (destroy, logout). */
export function expiredSessionCookie(name: string, options: ResolvedCookieOptions, secure: boolean): string {
  return stringifySetCookie({ ...attributes(name, '', options, secure), maxAge: 0, expires: new Date(0) });
}

// The attributes both cookies share: a browser only replaces or drops a cookie whose name, path and domain match.
function attributes(name: string, value: string, options: ResolvedCookieOptions, secure: boolean) {
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
