import { encodeValue } from './codec.js';
import { SessionDestroyedError, SessionTooLargeError } from './errors.js';
import { checkIncrAmount, checkKey } from './providers/contract-checks.js';
import type { SessionBinding, SessionSnapshot } from './providers/provider.js';
import type {
  NumericKey,
  RegenerateOptions,
  Session,
  SessionData,
  SessionKey,
  SessionTimeouts,
  SetUserOptions,
} from './session.js';
import { bindUser, FLASH_PREFIX, retime } from './session-user.js';
import { SessionView } from './session-view.js';
import { type RequestLink, type SessionHost, SessionWrites } from './session-writes.js';
import { generateSid } from './sid.js';
import { addSessionParam } from './transport/url.js';

/**
 * The session a request works on (the `Session` of the public API): the snapshot's values and the view
 * of this request's changes. Every write goes through its `SessionWrites`, which the manager flushes as
 * the headers go out.
 */
export class RequestSession<Data extends object = SessionData> implements Session<Data> {
  /** The request's writes; the manager calls `flushInBackground()` on it as the headers go out. */
  readonly writes: SessionWrites;
  #isNew: boolean;
  #destroyed = false;
  /** The keys as this request sees them: see session-view.ts. */
  readonly #view: SessionView;
  #absoluteExpiresAt: number;
  /** The idle deadline as last known: the snapshot's, until this request slides it. */
  #idleExpiresAt: number;
  /** The session's idle timeout: the manager's, unless `setTimeouts` gave it its own. */
  #idleTimeoutMs: number;
  #binding: SessionBinding | undefined;
  readonly #host: SessionHost;
  readonly #link: RequestLink;

  constructor(host: SessionHost, link: RequestLink, sid: string, snapshot?: SessionSnapshot) {
    this.#host = host;
    this.#link = link;
    const now = host.now();
    if (snapshot) {
      this.#isNew = false;
      this.#view = new SessionView(snapshot.values);
      this.#idleTimeoutMs = snapshot.idleTimeoutMs ?? host.policy.idleTimeoutMs;
      this.#binding = snapshot.binding;
      const lastSlide = snapshot.idleExpiresAt - this.#idleTimeoutMs;
      this.writes = new SessionWrites(host, link, sid, true, now - lastSlide > host.touchAfterMs);
      this.#absoluteExpiresAt = snapshot.absoluteExpiresAt;
      this.#idleExpiresAt = snapshot.idleExpiresAt;
    } else {
      this.#isNew = true;
      this.#view = new SessionView();
      this.#idleTimeoutMs = host.policy.idleTimeoutMs;
      this.writes = new SessionWrites(host, link, sid, false, false);
      this.#absoluteExpiresAt = now + host.policy.absoluteTimeoutMs;
      this.#idleExpiresAt = now + host.policy.idleTimeoutMs;
    }
  }

  get id(): string {
    return this.writes.sid;
  }

  get isNew(): boolean {
    return this.#isNew;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** True when the store holds this id (so a cookie for it is worth sending). */
  get stored(): boolean {
    return this.writes.stored && !this.#destroyed;
  }

  get expiresAt(): number {
    const idle = this.writes.slid ? this.#host.now() + this.#idleTimeoutMs : this.#idleExpiresAt;
    return Math.min(idle, this.#absoluteExpiresAt);
  }

  get<K extends SessionKey<Data>>(key: K): Data[K] | undefined {
    if (this.#destroyed) return undefined;
    return this.#view.get(key) as Data[K] | undefined;
  }

  has(key: SessionKey<Data>): boolean {
    return !this.#destroyed && this.#view.has(key);
  }

  keys(): SessionKey<Data>[] {
    if (this.#destroyed) return [];
    return [...this.#view.keys()].filter((key) => !key.startsWith(FLASH_PREFIX)) as SessionKey<Data>[];
  }

  get userId(): string | undefined {
    return this.#destroyed ? undefined : this.#binding?.userId;
  }

  get handle(): string | undefined {
    return this.#destroyed ? undefined : this.#binding?.handle;
  }

  async setUser(userId: string, options: SetUserOptions = {}): Promise<void> {
    this.#assertWritable();
    let binding = await bindUser(this.#host, this.writes, userId, options.label);
    if (binding === null) {
      // The session died meanwhile (expired, revoked): like incr, go on in a new one, never resurrect the old id.
      this.#startOver(generateSid(), true);
      binding = await bindUser(this.#host, this.writes, userId, options.label);
      if (binding === null) throw new SessionDestroyedError('the session disappeared during setUser');
    }
    this.#binding = binding;
  }

  async setTimeouts(timeouts: SessionTimeouts): Promise<void> {
    this.#assertWritable();
    const retimed = await retime(this.#host, this.writes, timeouts);
    if (retimed === null) throw new SessionDestroyedError('the session disappeared during setTimeouts');
    const { meta, policy } = retimed;
    this.#idleTimeoutMs = policy.idleTimeoutMs;
    this.#idleExpiresAt = meta.idleExpiresAt;
    this.#absoluteExpiresAt = meta.absoluteExpiresAt;
  }

  flash(key: string, value: unknown): void {
    checkKey(key);
    this.set(`${FLASH_PREFIX}${key}` as SessionKey<Data>, value as Data[SessionKey<Data>]);
  }

  takeFlash<T = unknown>(key: string): T | undefined {
    checkKey(key);
    const name = `${FLASH_PREFIX}${key}` as SessionKey<Data>;
    if (!this.has(name)) return undefined;
    const value = this.get(name);
    this.delete(name);
    return value as T;
  }

  set<K extends SessionKey<Data>>(key: K, value: Data[K]): void {
    this.#assertWritable();
    checkKey(key);
    const bytes = encodeValue(value);
    if (bytes.byteLength > this.#host.maxValueBytes) {
      throw new SessionTooLargeError(
        `the value of "${key}" is ${bytes.byteLength} bytes, over the limit of ${this.#host.maxValueBytes}`,
      );
    }
    this.#view.set(key, value, bytes);
    this.writes.set(key, bytes);
  }

  delete(key: SessionKey<Data>): void {
    this.#assertWritable();
    checkKey(key);
    this.#view.delete(key);
    this.writes.delete(key);
  }

  async incr(key: NumericKey<Data>, by = 1): Promise<number> {
    this.#assertWritable();
    checkKey(key);
    checkIncrAmount(by);
    let result = await this.writes.incr(key, by);
    if (result === null) {
      // The session died during the request (expired, or destroyed by a concurrent logout). Like `start`
      // would have, continue in a fresh session instead of failing the request; never resurrect the old id.
      this.#startOver(generateSid(), true);
      result = await this.writes.incr(key, by);
      if (result === null) throw new SessionDestroyedError('the session disappeared during incr');
    }
    this.#view.setDecoded(key, result);
    return result;
  }

  async regenerate(options: RegenerateOptions = {}): Promise<void> {
    this.#assertWritable();
    const keep = options.keep ?? true;
    const newSid = generateSid();
    if (!this.writes.stored) {
      this.writes.moveToNewId(newSid);
      if (!keep) this.#clear();
      return;
    }
    // The rename must see every write already sent for the old id.
    await this.writes.settle();
    const provider = this.#host.provider;
    if (!keep) {
      await provider.destroy(this.writes.sid);
      this.#startOver(newSid, true);
      return;
    }
    const meta = await provider.rename(this.writes.sid, newSid);
    if (meta === null && this.#binding !== undefined) {
      // A bound session that vanished meanwhile was logged out (revoked, destroyed): its data stays behind.
      this.#startOver(newSid, true);
      return;
    }
    if (meta === null) {
      // The old session vanished meanwhile: carry this request's view into a new session under the new id.
      this.#startOver(newSid, false);
      for (const [key, bytes] of this.#view.encoded()) this.writes.set(key, bytes);
      return;
    }
    this.writes.renamedTo(newSid);
    this.#absoluteExpiresAt = meta.absoluteExpiresAt;
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.writes.discardPending();
    this.#view.clear();
    this.#binding = undefined;
    this.#link.onDestroyed();
    if (!this.writes.stored) return;
    try {
      await this.#host.provider.destroy(this.writes.sid);
    } catch (error) {
      // The store still holds the session: the client keeps its cookie, to log out again once the store is back.
      this.#link.onDestroyFailed();
      throw error;
    }
  }

  touch(): void {
    this.#assertWritable();
    this.writes.touch();
  }

  async save(): Promise<void> {
    if (!this.#destroyed) this.writes.flushNow();
    await this.writes.settle();
    const error = this.writes.takeError();
    if (error !== undefined) throw error;
  }

  url(href: string): string {
    const param = this.#host.urlParam;
    if (param === undefined || this.#destroyed) return href;
    return addSessionParam(href, param, this.#host.transportValue(this.writes.sid));
  }

  /** Continues under `sid` as a new session (not stored yet), with or without this request's data. */
  #startOver(sid: string, clear: boolean): void {
    if (clear) this.#clear();
    this.writes.moveToNewId(sid);
    this.#isNew = true;
    this.#binding = undefined;
    this.#idleTimeoutMs = this.#host.policy.idleTimeoutMs;
    const now = this.#host.now();
    this.#absoluteExpiresAt = now + this.#host.policy.absoluteTimeoutMs;
    this.#idleExpiresAt = now + this.#host.policy.idleTimeoutMs;
  }

  #clear(): void {
    this.#view.clear();
    this.writes.discardPending();
    this.#isNew = true;
  }

  /** The view, as this request's own map (copied from the snapshot's on the first change). */
  #assertWritable(): void {
    if (this.#destroyed) throw new SessionDestroyedError();
  }
}
