import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The demo's defences against cross-site requests (CSRF) and framing. Two layers, because either alone has
 * gaps: browsers that send `Sec-Fetch-Site`/`Origin` let us refuse a cross-site form post outright, and a
 * token in every form (which another site cannot read) refuses a forged post from a client that sends
 * neither header.
 */

/** Headers every page gets: no framing (clickjacking), no inline script, forms only to this origin. */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/**
 * True when a state-changing request comes from another site: `Sec-Fetch-Site` says so (every current
 * browser sends it), or `Origin` names another origin than the one the request was sent to. A request
 * with neither header (curl, an old browser) is not refused here: the form token still has to match.
 */
export function isCrossSite(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  if (origin === 'null') return true; // sandboxed frames and some redirects: never our own page
  const host = req.headers.host;
  if (typeof host !== 'string') return true;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** A fresh form token: 128 random bits, URL-safe. */
export function newToken(): string {
  return randomBytes(16).toString('base64url');
}

/** Compares a token from a form with the expected one in constant time; false when either is missing. */
export function tokensMatch(sent: string | undefined, expected: string | undefined): boolean {
  if (!sent || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The login form's token lives in a cookie of its own (double submit) rather than in a session: showing a
 * stranger the login form must not store anything (bots would fill the store). Another site can neither
 * read this cookie nor set it (host-only, `SameSite=Strict`), so it cannot forge a matching form field.
 */
export const LOGIN_TOKEN_COOKIE = 'login_csrf';

export function loginTokenCookie(token: string, secure: boolean): string {
  // Path=/: the home page shows the login form too, and must reuse the token the client holds rather than
  // overwrite it (an open login tab would then post a stale one and get 403).
  return `${LOGIN_TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600${secure ? '; Secure' : ''}`;
}
