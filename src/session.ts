import { decodeValue, encodeValue } from './codec.js';
import { InvalidArgumentError, SessionDestroyedError, SessionTooLargeError } from './errors.js';
import type { SessionDelta, SessionMeta, SessionPolicy, SessionProvider } from './providers/provider.js';
import { checkKey } from './session-key.js';
import { generateSid } from './sid.js';
import { addSessionParam } from './transport/url.js';

/** The default shape of session data: any string key. Pass your own type to `createSessionManager<Data>`. */
export type SessionData = Record<string, unknown>;

/** The string keys of `Data`. */
export type SessionKey<Data> = keyof Data & string;

/** The keys of `Data` that can hold a number: what `incr` accepts. */
export type NumericKey<Data> = {
  [K in SessionKey<Data>]-?: number extends Data[K] ? K : never;
}[SessionKey<Data>];

/** Options of {@link Session.regenerate}. */
export interface RegenerateOptions {
  /** Keep the data under the new id (default true: the login defense against fixation). */
  keep?: boolean;
}

/** What a session needs from its manager. Internal: built by the manager, not by users. */
export interface SessionHost {
  readonly provider: SessionProvider;
  readonly policy: SessionPolicy;
  readonly now: () => number;
  readonly maxValueBytes: number;
  /** Slide the idle deadline (with an empty commit) only when more than this has passed since the last slide. */
  readonly touchAfterMs: number;
  /** The transported (maybe signed) form of an id. */
  transportValue(sid: string): string;
  /** Query parameter of the URL transport, when it is enabled. */
  readonly urlParam: string | undefined;
  /** Receives failures of commits nobody awaits (those sent as the headers go out). */
  reportError(error: unknown): void;
}

/** What a session needs from the request it belongs to. Internal. */
export interface RequestLink {
  /** True once the response's headers were written: the cookie can no longer change. */
  readonly headersWritten: boolean;
  /** True when an id can still reach the client after the headers (URL transport): late creation is useful. */
  readonly lateDeliveryPossible: boolean;
  /** Called when the session is destroyed, so the response expires the cookie. */
  onDestroyed(): void;
}

const DELETED = Symbol('deleted');

interface Entry {
  bytes: Uint8Array | undefined;
  value: unknown;
  decoded: boolean;
}

/**
 * One request's view of a session: a snapshot read once at `start`, plus the keys this request changed.
 * `get`/`set`/`delete`/`has`/`keys` are synchronous on the snapshot; only the changed keys travel to the store,
 * as a delta, just before the response's headers go out (or at `save()`). `incr` runs at the store, atomically.
 */
export class Session<Data extends object = SessionData> {
  #id: string;
  #isNew: boolean;
  /** True once the store holds (or has been sent the creation of) this id. */
  #stored: boolean;
  #destroyed = false;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Uint8Array | typeof DELETED>();
  readonly #inflight = new Set<Promise<unknown>>();
  #error: unknown;
  /** The idle deadline was due for a slide when the session was loaded (or touch() asked for one). */
  #slideDue: boolean;
  /** A write that slides the idle deadline was sent during this request. */
  #slid = false;
  #touchRequested = false;
  #absoluteExpiresAt: number;
  /** The idle deadline as last known: the snapshot's, until this request slides it. */
  #idleExpiresAt: number;
  readonly #host: SessionHost;
  readonly #link: RequestLink;
  #lateFlushQueued = false;

  /** @internal Built by the manager. */
  constructor(
    host: SessionHost,
    link: RequestLink,
    sid: string,
    snapshot?: {
      values: ReadonlyMap<string, Uint8Array>;
      idleExpiresAt: number;
      absoluteExpiresAt: number;
    },
  ) {
    this.#host = host;
    this.#link = link;
    this.#id = sid;
    const now = host.now();
    if (snapshot) {
      this.#isNew = false;
      this.#stored = true;
      for (const [key, bytes] of snapshot.values) {
        this.#entries.set(key, { bytes, value: undefined, decoded: false });
      }
      const lastSlide = snapshot.idleExpiresAt - host.policy.idleTimeoutMs;
      this.#slideDue = now - lastSlide > host.touchAfterMs;
      this.#absoluteExpiresAt = snapshot.absoluteExpiresAt;
      this.#idleExpiresAt = snapshot.idleExpiresAt;
    } else {
      this.#isNew = true;
      this.#stored = false;
      this.#slideDue = false;
      this.#absoluteExpiresAt = now + host.policy.absoluteTimeoutMs;
      this.#idleExpiresAt = now + host.policy.idleTimeoutMs;
    }
  }

  /** The session id. Never log it: whoever has it is logged in as this user. */
  get id(): string {
    return this.#id;
  }

  /** True when the session was created during this request (or regenerated without its data). */
  get isNew(): boolean {
    return this.#isNew;
  }

  /** True once `destroy()` ran: reads see nothing and writes throw `SessionDestroyedError`. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * When the session will die unless used again, in ms since the epoch: the earlier of the idle deadline (moved
   * to now + idle timeout once this request wrote or touched) and the absolute deadline.
   */
  get expiresAt(): number {
    const idle = this.#slid ? this.#host.now() + this.#host.policy.idleTimeoutMs : this.#idleExpiresAt;
    return Math.min(idle, this.#absoluteExpiresAt);
  }

  /** The value under `key` in this request's view, or undefined. Objects are copies: `set` them to save changes. */
  get<K extends SessionKey<Data>>(key: K): Data[K] | undefined {
    if (this.#destroyed) return undefined;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (!entry.decoded) {
      entry.value = decodeValue(entry.bytes as Uint8Array);
      entry.decoded = true;
    }
    return entry.value as Data[K];
  }

  /** Whether `key` holds a value in this request's view. */
  has(key: SessionKey<Data>): boolean {
    return !this.#destroyed && this.#entries.has(key);
  }

  /** The keys in this request's view. */
  keys(): SessionKey<Data>[] {
    return this.#destroyed ? [] : ([...this.#entries.keys()] as SessionKey<Data>[]);
  }

  /**
   * Sets `key` to `value`. The value is encoded now (so later mutations of the object are not saved) and sent
   * with the other changes before the headers go out. Throws `SessionTooLargeError` when the encoded value is
   * over `maxValueBytes`. Concurrent requests that set different keys both keep their change.
   */
  set<K extends SessionKey<Data>>(key: K, value: Data[K]): void {
    this.#assertWritable();
    checkKey(key);
    const bytes = encodeValue(value);
    if (bytes.byteLength > this.#host.maxValueBytes) {
      throw new SessionTooLargeError(
        `the value of "${key}" is ${bytes.byteLength} bytes, over the limit of ${this.#host.maxValueBytes}`,
      );
    }
    this.#entries.set(key, { bytes, value, decoded: true });
    this.#pending.set(key, bytes);
    this.#afterChange();
  }

  /** Removes `key`. */
  delete(key: SessionKey<Data>): void {
    this.#assertWritable();
    checkKey(key);
    this.#entries.delete(key);
    this.#pending.set(key, DELETED);
    this.#afterChange();
  }

  /**
   * Adds `by` (default 1) to the number under `key` atomically at the store and resolves the new number (a
   * missing key counts as 0). Use it for counters that must not lose updates under concurrent requests.
   * Rejects `NotANumberError` when the stored value is not a number.
   */
  async incr(key: NumericKey<Data>, by = 1): Promise<number> {
    this.#assertWritable();
    checkKey(key);
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new InvalidArgumentError('incr: the increment must be a finite number');
    }
    let result = await this.#sendIncr(key, by);
    if (result === null) {
      // The session died during the request (expired, or destroyed by a concurrent logout). Like `start`
      // would have, continue in a fresh session instead of failing the request; never resurrect the old id.
      this.#becomeNew(generateSid(), true);
      result = await this.#sendIncr(key, by);
      if (result === null) throw new SessionDestroyedError('the session disappeared during incr');
    }
    this.#entries.set(key, { bytes: undefined, value: result, decoded: true });
    return result;
  }

  /**
   * Gives the session a new id and kills the old one at once (call it at login and privilege changes).
   * With `keep` (default true) the data moves to the new id; with `keep: false` the session starts empty.
   */
  async regenerate(options: RegenerateOptions = {}): Promise<void> {
    this.#assertWritable();
    const keep = options.keep ?? true;
    const oldSid = this.#id;
    const newSid = generateSid();
    if (!this.#stored) {
      this.#id = newSid;
      if (!keep) this.#clear();
      return;
    }
    // The rename must see every write already sent for the old id.
    await this.#settle();
    if (!keep) {
      await this.#host.provider.destroy(oldSid);
      this.#becomeNew(newSid, true);
      return;
    }
    const meta = await this.#host.provider.rename(oldSid, newSid);
    this.#id = newSid;
    if (meta === null) {
      // The old session vanished meanwhile: carry this request's view into a new session under the new id.
      this.#becomeNew(newSid, false);
      for (const [key, entry] of this.#entries) {
        this.#pending.set(key, entry.bytes ?? encodeValue(entry.value));
      }
      return;
    }
    this.#absoluteExpiresAt = meta.absoluteExpiresAt;
    this.#slid = true;
    this.#slideDue = true;
  }

  /** Deletes the session from the store now; the response expires the cookie. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#pending.clear();
    this.#entries.clear();
    this.#link.onDestroyed();
    if (!this.#stored) return;
    await this.#host.provider.destroy(this.#id);
  }

  /** Asks for the idle deadline to slide (and the cookie to be re-sent) on this response even if nothing changed. */
  touch(): void {
    this.#assertWritable();
    this.#touchRequested = true;
    this.#slideDue = true;
    this.#afterChange();
  }

  /**
   * Sends the pending changes now and waits until the store applied every write of this request. Rejects with
   * the first failure. Not needed for read-your-writes on the next request (the store's channel is ordered);
   * use it when you must know the change is stored before you answer.
   */
  async save(): Promise<void> {
    if (!this.#destroyed) this.flush(false);
    await this.#settle();
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      throw error;
    }
  }

  /** `href` carrying the session id in the URL transport's query parameter (unchanged when it is disabled). */
  url(href: string): string {
    const param = this.#host.urlParam;
    if (param === undefined || this.#destroyed) return href;
    return addSessionParam(href, param, this.#host.transportValue(this.#id));
  }

  /**
   * Sends the pending changes without waiting: the creation (init) of a new session that has changes, a commit of
   * the changed keys, or a touch when the idle deadline is due to slide. A failure is kept for `save()` and, when
   * `background`, reported to the manager's `onError`. @internal
   */
  flush(background: boolean): void {
    if (this.#destroyed) return;
    if (!this.#stored) {
      if (this.#pending.size === 0) return;
      if (this.#link.headersWritten && !this.#link.lateDeliveryPossible) {
        // The id can no longer reach the client: storing it would only create an orphan.
        this.#pending.clear();
        return;
      }
      this.#sendInit(background);
      return;
    }
    const delta = this.#takeDelta();
    if (delta === undefined && !(this.#slideDue && !this.#slid)) return;
    this.#slid = true;
    this.#track(this.#host.provider.commit(this.#id, delta ?? {}), background);
  }

  /** True when the store holds this id (so a cookie for it is worth sending). @internal */
  get stored(): boolean {
    return this.#stored && !this.#destroyed;
  }

  /** True when this request moved the expiry noticeably, so a persistent cookie should get a new Max-Age. @internal */
  get rolled(): boolean {
    return this.#slid && (this.#slideDue || this.#touchRequested);
  }

  #afterChange(): void {
    // After the headers, nothing else will flush: do it once this tick's changes are collected.
    if (this.#link.headersWritten && !this.#lateFlushQueued) {
      this.#lateFlushQueued = true;
      queueMicrotask(() => {
        this.#lateFlushQueued = false;
        this.flush(true);
      });
    }
  }

  async #sendIncr(key: string, by: number): Promise<number | null> {
    // Pending changes first, then creation if needed, then the increment, all sent before anything is awaited:
    // the store applies them in send order.
    let created: Promise<unknown> | undefined;
    if (this.#stored) this.flush(false);
    else created = this.#sendInit(false);
    this.#slid = true;
    const result = this.#host.provider.incr(this.#id, key, by);
    if (created === undefined) return result;
    // If the creation failed (too large, overload), that is the error to report, not the increment's null.
    const [, value] = await Promise.all([created, result]);
    return value;
  }

  #sendInit(background: boolean): Promise<unknown> {
    const delta = this.#takeDelta() ?? {};
    this.#stored = true;
    this.#slid = true;
    const write = this.#host.provider.init(this.#id, this.#host.policy, delta);
    this.#track(write, background);
    return write;
  }

  #takeDelta(): SessionDelta | undefined {
    if (this.#pending.size === 0) return undefined;
    const set: [string, Uint8Array][] = [];
    const del: string[] = [];
    for (const [key, bytes] of this.#pending) {
      if (bytes === DELETED) del.push(key);
      else set.push([key, bytes]);
    }
    this.#pending.clear();
    return { ...(set.length > 0 ? { set } : {}), ...(del.length > 0 ? { delete: del } : {}) };
  }

  #track(write: Promise<SessionMeta | null>, background: boolean): void {
    // One derived promise per write (this runs for every commit under load): it settles the same way
    // whatever the write did and takes itself out of the in-flight set.
    const tracked: Promise<void> = write.then(
      () => {
        this.#inflight.delete(tracked);
      },
      (error: unknown) => {
        this.#inflight.delete(tracked);
        if (this.#error === undefined) this.#error = error;
        if (background) this.#host.reportError(error);
      },
    );
    this.#inflight.add(tracked);
  }

  async #settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  #becomeNew(sid: string, clear: boolean): void {
    if (clear) this.#clear();
    this.#id = sid;
    this.#isNew = true;
    this.#stored = false;
    this.#slideDue = false;
    const now = this.#host.now();
    this.#absoluteExpiresAt = now + this.#host.policy.absoluteTimeoutMs;
    this.#idleExpiresAt = now + this.#host.policy.idleTimeoutMs;
  }

  #clear(): void {
    this.#entries.clear();
    this.#pending.clear();
    this.#isNew = true;
  }

  #assertWritable(): void {
    if (this.#destroyed) throw new SessionDestroyedError();
  }
}
