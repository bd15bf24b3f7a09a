import { decodeValue, encodeValue } from '../../codec.js';
import type { SessionDelta, SessionSnapshot } from '../../providers/provider.js';

/**
 * How one express-session session is laid out in a provider's record: two keys, because every value a
 * provider holds costs it an entry and a buffer (measured: four keys cost ~350 B more per session than two).
 * - `data`: the session's fields but its cookie, encoded once;
 * - `meta`: `[id, expiresAt, cookie]`: the express-session id (the provider's id is a one-way hash of it, so
 *   `all()` and `ids()` need it back, and `get` checks the record is the one it asked for), when the session
 *   ends by express-session's rules (the cookie's `expires`, or the store's `ttl`), and the cookie.
 * `set` replaces both in one commit, so a reader sees the old session or the new one, never half of each;
 * `touch` replaces `meta` only, never the data (as MemoryStore's touch replaces the stored cookie).
 */
export const DATA_KEY = 'data';
export const META_KEY = 'meta';

/** The part of a session object the store reads: its cookie, whose expiry is a Date or (from JSON) a string. */
interface CookieHolder {
  readonly cookie?: { readonly expires?: unknown; toJSON?: () => unknown } | null;
}

/** What `meta` holds, decoded. */
export interface StoredMeta {
  readonly id: string;
  readonly expiresAt: number;
  readonly cookie: unknown;
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

/** The delta that replaces the whole session in one commit. Throws `InvalidArgumentError` for an unstorable value. */
export function replaceDelta(id: string, session: object, expiresAt: number): SessionDelta {
  return {
    set: [
      [DATA_KEY, encodeValue(dataOf(session))],
      [META_KEY, encodeMeta(id, session, expiresAt)],
    ],
  };
}

/** The delta of a touch: the cookie and the expiry, not the data. */
export function touchDelta(id: string, session: object, expiresAt: number): SessionDelta {
  return { set: [[META_KEY, encodeMeta(id, session, expiresAt)]] };
}

/** A record's `meta`, or undefined if it has none of the right shape (not one of this store's sessions). */
function metaOf(snapshot: SessionSnapshot): StoredMeta | undefined {
  const meta = decoded(snapshot, META_KEY);
  if (!Array.isArray(meta) || typeof meta[0] !== 'string' || typeof meta[1] !== 'number') return undefined;
  return { id: meta[0], expiresAt: meta[1], cookie: meta[2] };
}

/**
 * The `meta` of a record read for `id` (any id when undefined) while express-session's expiry has not passed;
 * undefined for another id's record (which only a hash collision could give), an expired session, or a record
 * that is not one of this store's sessions.
 */
export function liveMeta(
  snapshot: SessionSnapshot,
  id: string | undefined,
  now: number,
): StoredMeta | undefined {
  const meta = metaOf(snapshot);
  if (meta === undefined || (id !== undefined && meta.id !== id) || meta.expiresAt <= now) return undefined;
  return meta;
}

/** The session object of a record: its data with its cookie, or undefined if the data is not an object. */
export function sessionOf(snapshot: SessionSnapshot, meta: StoredMeta): object | undefined {
  const data = decoded(snapshot, DATA_KEY);
  if (data === null || typeof data !== 'object') return undefined;
  if (meta.cookie !== undefined) (data as Record<string, unknown>).cookie = meta.cookie;
  return data;
}

function decoded(snapshot: SessionSnapshot, key: string): unknown {
  const bytes = snapshot.values.get(key);
  return bytes === undefined ? undefined : decodeValue(bytes);
}

function encodeMeta(id: string, session: object, expiresAt: number): Uint8Array {
  return encodeValue([id, expiresAt, cookieOf(session)]);
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

/**
 * The attributes of a session's cookie but its expiry, as one string: equal for two sessions whose cookies
 * differ at most in `expires` (a rolling touch), different when `maxAge`, `sameSite`, `httpOnly` … changed.
 */
export function cookieAttributesOf(session: object): string {
  return attributesOf(cookieOf(session));
}

/** {@link cookieAttributesOf} for a cookie as a record stores it (`meta`'s third field). */
export function storedCookieAttributes(meta: StoredMeta): string {
  return attributesOf(meta.cookie);
}

function attributesOf(cookie: unknown): string {
  if (cookie === null || typeof cookie !== 'object') return String(cookie);
  const { expires: _expires, ...attributes } = cookie as Record<string, unknown>;
  return JSON.stringify(attributes);
}

/** What JSON.stringify keeps of an object: the fields that are not undefined. */
function withoutUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) kept[key] = field;
  return kept;
}
