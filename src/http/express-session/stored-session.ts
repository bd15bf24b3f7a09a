import { decodeValue, encodeValue } from '../../codec.js';
import type { SessionDelta, SessionSnapshot } from '../../providers/provider.js';

/**
 * How one express-session session is laid out in a provider's record. Three keys:
 * - `id`: the express-session id, written once at creation, so `all()` and `ids()` can give it back (the
 *   provider's id is a one-way hash of it) and `get` can check the record is the one it asked for;
 * - `data`: the whole session object, encoded once: `set` replaces it in one commit, so a reader sees the old
 *   object or the new one, never half of each;
 * - `expires`: when express-session says the session ends (its cookie's `expires`, or the store's `ttl`).
 *   `touch` rewrites only this key, never the data.
 */
export const ID_KEY = 'id';
export const DATA_KEY = 'data';
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
 * The session object as it is stored: its own enumerable fields, with the cookie in its JSON form (what every
 * JSON store keeps; express-session's Cookie keeps its expiry in a getter msgpackr would not see). Values are
 * then encoded with the library's codec, so a `Date` stays a `Date` (express-session and @fastify/session both
 * accept a Date where JSON stores hand back a string).
 */
function storable(session: object): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(session)) fields[key] = (session as Record<string, unknown>)[key];
  const cookie = (session as CookieHolder).cookie;
  if (cookie && typeof cookie.toJSON === 'function') fields.cookie = withoutUndefined(cookie.toJSON());
  return fields;
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
      [DATA_KEY, encodeValue(storable(session))],
      [EXPIRES_KEY, encodeValue(expiresAt)],
    ],
  };
}

/** The delta that moves only the expiry (a touch). */
export function expiryDelta(expiresAt: number): SessionDelta {
  return { set: [[EXPIRES_KEY, encodeValue(expiresAt)]] };
}

/** The values a new record starts with: its id, then what `replaceDelta` sets. */
export function initialValues(id: string, replace: SessionDelta): SessionDelta {
  return { set: [[ID_KEY, encodeValue(id)], ...(replace.set ?? [])] };
}

/** The id a record was created for, or undefined if it holds none (not one of this store's sessions). */
export function storedId(snapshot: SessionSnapshot): string | undefined {
  const bytes = snapshot.values.get(ID_KEY);
  const id = bytes === undefined ? undefined : decodeValue(bytes);
  return typeof id === 'string' ? id : undefined;
}

/** True while express-session's expiry has not passed (the provider's own deadline is checked by the provider). */
export function isLive(snapshot: SessionSnapshot, now: number): boolean {
  const bytes = snapshot.values.get(EXPIRES_KEY);
  const expiresAt = bytes === undefined ? undefined : decodeValue(bytes);
  return typeof expiresAt === 'number' && expiresAt > now;
}

/**
 * The session object of a record read for `id`, or undefined when the record is not that session's (another
 * id, which only a hash collision could cause) or express-session's expiry has passed.
 */
export function sessionOf(snapshot: SessionSnapshot, id: string, now: number): object | undefined {
  if (storedId(snapshot) !== id || !isLive(snapshot, now)) return undefined;
  const bytes = snapshot.values.get(DATA_KEY);
  const data = bytes === undefined ? undefined : decodeValue(bytes);
  return data !== null && typeof data === 'object' ? data : undefined;
}
