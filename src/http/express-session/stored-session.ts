import { decodeValue, encodeValue } from '../../codec.js';
import type { SessionDelta, SessionSnapshot } from '../../providers/provider.js';

/**
 * How one express-session session is laid out in a provider's record. Four keys:
 * - `id`: the express-session id, written once at creation, so `all()` and `ids()` can give it back (the
 *   provider's id is a one-way hash of it) and `get` can check the record is the one it asked for;
 * - `data`: the session's fields but its cookie, encoded once: `set` replaces them in one commit with the two
 *   keys below, so a reader sees the old session or the new one, never half of each;
 * - `cookie`: the session's cookie, which `touch` replaces without rewriting the data (as MemoryStore's touch
 *   replaces the stored cookie);
 * - `expires`: when the session ends by express-session's rules (the cookie's `expires`, or the store's `ttl`).
 */
export const ID_KEY = 'id';
export const DATA_KEY = 'data';
export const COOKIE_KEY = 'cookie';
export const EXPIRES_KEY = 'expires';

/** The part of a session object the store reads: its cookie's expiry, a Date or (from JSON) a string. */
interface CookieHolder {
  readonly cookie?: { readonly expires?: unknown; toJSON?: () => unknown } | null;
}

/**
 * When the session ends, in ms since the epoch: its cookie's `expires` when it has one (what express-session
 * and @fastify/session set from `maxAge`), otherwise `now + ttlMs` (a browser-session cookie: the store's
 * `ttl` decides, as in connect-redis).
 */
export function expiryOf(session: object, now: number, ttlMs: number): number {
  const expires = (session as CookieHolder).cookie?.expires;
  if (expires instanceof Date || typeof expires === 'string' || typeof expires === 'number') {
    const at = new Date(expires).getTime();
    if (Number.isFinite(at)) return at;
  }
  return now + ttlMs;
}

/**
 * The session's own enumerable fields but its cookie. Values are encoded with the library's codec (msgpackr
 * structured clone), so a `Date` stays a `Date`, where JSON stores hand back a string.
 */
function dataOf(session: object): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(session)) {
    if (key !== 'cookie') fields[key] = (session as Record<string, unknown>)[key];
  }
  return fields;
}

/**
 * The cookie in its JSON form, what every JSON store keeps (express-session's Cookie keeps its expiry behind
 * a getter that msgpackr would not see); `expires` stays a `Date`, which express-session and @fastify/session
 * both accept where JSON stores give a string.
 */
function cookieOf(session: object): unknown {
  const cookie = (session as CookieHolder).cookie;
  return cookie && typeof cookie.toJSON === 'function' ? withoutUndefined(cookie.toJSON()) : cookie;
}

/** What JSON.stringify keeps of an object: the fields that are not undefined. */
function withoutUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) kept[key] = field;
  return kept;
}

/** The delta that replaces the whole session and its expiry in one commit. Throws `InvalidArgumentError` for an unstorable value. */
export function replaceDelta(session: object, expiresAt: number): SessionDelta {
  return {
    set: [
      [DATA_KEY, encodeValue(dataOf(session))],
      [COOKIE_KEY, encodeValue(cookieOf(session))],
      [EXPIRES_KEY, encodeValue(expiresAt)],
    ],
  };
}

/** The delta of a touch: the cookie and the expiry, not the data. */
export function touchDelta(session: object, expiresAt: number): SessionDelta {
  return {
    set: [
      [COOKIE_KEY, encodeValue(cookieOf(session))],
      [EXPIRES_KEY, encodeValue(expiresAt)],
    ],
  };
}

/** The values a new record starts with: its id, then what `replaceDelta` sets. */
export function initialValues(id: string, replace: SessionDelta): SessionDelta {
  return { set: [[ID_KEY, encodeValue(id)], ...(replace.set ?? [])] };
}

/** The id a record was created for, or undefined if it holds none (not one of this store's sessions). */
export function storedId(snapshot: SessionSnapshot): string | undefined {
  const id = decoded(snapshot, ID_KEY);
  return typeof id === 'string' ? id : undefined;
}

/** True while express-session's expiry has not passed (the provider's own deadline is checked by the provider). */
export function isLive(snapshot: SessionSnapshot, now: number): boolean {
  const expiresAt = decoded(snapshot, EXPIRES_KEY);
  return typeof expiresAt === 'number' && expiresAt > now;
}

/**
 * The session object of a record read for `id` (its data with its cookie), or undefined when the record is not
 * that session's (another id, which only a hash collision could cause) or express-session's expiry has passed.
 */
export function sessionOf(snapshot: SessionSnapshot, id: string, now: number): object | undefined {
  if (storedId(snapshot) !== id || !isLive(snapshot, now)) return undefined;
  const data = decoded(snapshot, DATA_KEY);
  if (data === null || typeof data !== 'object') return undefined;
  const cookie = decoded(snapshot, COOKIE_KEY);
  if (cookie !== undefined) (data as Record<string, unknown>).cookie = cookie;
  return data;
}

function decoded(snapshot: SessionSnapshot, key: string): unknown {
  const bytes = snapshot.values.get(key);
  return bytes === undefined ? undefined : decodeValue(bytes);
}
