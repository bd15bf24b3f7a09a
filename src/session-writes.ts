import type { SessionDelta, SessionMeta, SessionPolicy, SessionProvider } from './providers/provider.js';

/** What a session's writes need from its manager. Built by the manager, once. */
export interface SessionHost {
  readonly provider: SessionProvider;
  readonly policy: SessionPolicy;
  /** The longest timeouts `session.setTimeouts` may give one session. */
  readonly maxTimeouts: SessionPolicy;
  readonly now: () => number;
  readonly maxValueBytes: number;
  /** Slide the idle deadline (with an empty commit) only when more than this has passed since the last slide. */
  readonly touchAfterMs: number;
  /** The transported (maybe signed) form of an id. */
  transportValue(sid: string): string;
  /** Query parameter of the URL transport, when it is enabled. */
  readonly urlParam: string | undefined;
  /** Receives failures of writes nobody awaits (those sent as the headers go out). */
  reportError(error: unknown): void;
}

/** What a session needs from the request it belongs to. */
export interface RequestLink {
  /** True once the response's headers were written: the cookie can no longer change. */
  readonly headersWritten: boolean;
  /** True when an id can still reach the client after the headers (URL transport): late creation is useful. */
  readonly lateDeliveryPossible: boolean;
  /** Called when the session is destroyed, so the response expires the cookie. */
  onDestroyed(): void;
  /**
   * Called when the store failed to delete it: the store still holds the session, so the response must not
   * expire the cookie (the client could not log out again).
   */
  onDestroyFailed(): void;
}

const DELETED = Symbol('deleted');

/**
 * One request's writes to its session: the changed keys waiting to travel (the delta), the writes sent and
 * not yet answered, and whether the store holds the id yet. It decides what one flush sends — the creation
 * (init) of a new session that has changes, a commit of the changed keys, or a touch when the idle deadline
 * is due to slide — and sends it without waiting. The store's ordered channel applies what is sent in send
 * order, which is what makes read-your-writes hold without awaiting.
 */
export class SessionWrites {
  readonly #host: SessionHost;
  readonly #link: RequestLink;
  // Both made on first use: most requests change nothing, or only increment.
  #pending: Map<string, Uint8Array | typeof DELETED> | undefined;
  #inflight: Set<Promise<void>> | undefined;
  #sid: string;
  #error: unknown;
  /** True once the store holds (or has been sent the creation of) the id. */
  #stored: boolean;
  /** The idle deadline was due for a slide when the session was loaded (or touch() asked for one). */
  #slideDue: boolean;
  /** A write that slides the idle deadline was sent during this request. */
  #slid = false;
  #touchRequested = false;
  #lateFlushQueued = false;

  constructor(host: SessionHost, link: RequestLink, sid: string, stored: boolean, slideDue: boolean) {
    this.#host = host;
    this.#link = link;
    this.#sid = sid;
    this.#stored = stored;
    this.#slideDue = slideDue;
  }

  /** The id the writes go to. */
  get sid(): string {
    return this.#sid;
  }

  /** True once the store holds (or was sent the creation of) the id. */
  get stored(): boolean {
    return this.#stored;
  }

  /** True when a write sent in this request slid the idle deadline. */
  get slid(): boolean {
    return this.#slid;
  }

  /** True when this request moved the expiry noticeably, so a persistent cookie should get a new Max-Age. */
  get rolled(): boolean {
    return this.#slid && (this.#slideDue || this.#touchRequested);
  }

  set(key: string, bytes: Uint8Array): void {
    this.#pendingChanges().set(key, bytes);
    this.#afterChange();
  }

  delete(key: string): void {
    this.#pendingChanges().set(key, DELETED);
    this.#afterChange();
  }

  /** Asks for the idle deadline to slide on this response even if nothing changed. */
  touch(): void {
    this.#touchRequested = true;
    this.#slideDue = true;
    this.#afterChange();
  }

  /** Sends what is pending now; a failure is kept for `takeError` (the caller awaits `settle`). */
  flushNow(): void {
    this.#flush(false);
  }

  /** Sends what is pending as the headers go out; a failure also goes to the manager's `onError`. */
  flushInBackground(): void {
    this.#flush(true);
  }

  /**
   * Sends `incr` with what must precede it — the pending changes, or the creation of a new session — all
   * before anything is awaited, so the store applies them in that order. Resolves null when the session
   * is gone at the store.
   */
  incr(key: string, by: number): Promise<number | null> {
    // Not `async`: the usual case hands the provider's promise straight back, one promise fewer per request.
    let created: Promise<unknown> | undefined;
    if (this.#stored) this.flushNow();
    else created = this.#sendInit(false);
    this.#slid = true;
    const result = this.#host.provider.incr(this.#sid, key, by);
    if (created === undefined) return result;
    // If the creation failed (too large, overload), that is the error to report, not the increment's null.
    return Promise.all([created, result]).then(([, value]) => value);
  }

  /** Resolves once every write sent so far was answered (failures included). */
  async settle(): Promise<void> {
    const inflight = this.#inflight;
    while (inflight !== undefined && inflight.size > 0) await Promise.all([...inflight]);
  }

  /** The first failure of a write since the last call, if any, and forgets it. */
  takeError(): unknown {
    const error = this.#error;
    this.#error = undefined;
    return error;
  }

  /**
   * Makes sure the store holds (or was sent the creation of) the session, sending what is pending: what an
   * operation on the stored session (a binding, new timeouts) must follow on the ordered channel.
   */
  store(): void {
    if (this.#stored) this.flushNow();
    else this.#sendInit(false);
  }

  /** The store changed the session's timeouts (which slid its idle deadline): the cookie must be re-sent. */
  retimed(): void {
    this.#slid = true;
    this.#touchRequested = true;
  }

  /** Pending changes are dropped (destroy, or regenerate without the data). */
  discardPending(): void {
    this.#pending?.clear();
  }

  /** From now on the writes go to `sid`, which the store does not hold yet (a new session). */
  moveToNewId(sid: string): void {
    this.#sid = sid;
    this.#stored = false;
    this.#slideDue = false;
  }

  /** The store renamed the session to `sid` (which slid its idle deadline). */
  renamedTo(sid: string): void {
    this.#sid = sid;
    this.#slid = true;
    this.#slideDue = true;
  }

  #flush(background: boolean): void {
    if (!this.#stored) {
      if (this.#pending === undefined || this.#pending.size === 0) return;
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
    this.#track(this.#host.provider.commit(this.#sid, delta ?? {}), background);
  }

  #pendingChanges(): Map<string, Uint8Array | typeof DELETED> {
    if (this.#pending === undefined) this.#pending = new Map();
    return this.#pending;
  }

  #afterChange(): void {
    // After the headers, nothing else will flush: do it once this tick's changes are collected.
    if (this.#link.headersWritten && !this.#lateFlushQueued) {
      this.#lateFlushQueued = true;
      queueMicrotask(() => {
        this.#lateFlushQueued = false;
        this.#flush(true);
      });
    }
  }

  #sendInit(background: boolean): Promise<unknown> {
    const delta = this.#takeDelta() ?? {};
    this.#stored = true;
    this.#slid = true;
    const write = this.#host.provider.init(this.#sid, this.#host.policy, delta);
    this.#track(write, background);
    return write;
  }

  #takeDelta(): SessionDelta | undefined {
    const pending = this.#pending;
    if (pending === undefined || pending.size === 0) return undefined;
    const set: [string, Uint8Array][] = [];
    const del: string[] = [];
    for (const [key, bytes] of pending) {
      if (bytes === DELETED) del.push(key);
      else set.push([key, bytes]);
    }
    pending.clear();
    return { ...(set.length > 0 ? { set } : {}), ...(del.length > 0 ? { delete: del } : {}) };
  }

  #track(write: Promise<SessionMeta | null>, background: boolean): void {
    // One derived promise per write (this runs for every commit under load): it settles the same way
    // whatever the write did and takes itself out of the in-flight set.
    if (this.#inflight === undefined) this.#inflight = new Set();
    const inflight = this.#inflight;
    const tracked: Promise<void> = write.then(
      () => {
        inflight.delete(tracked);
      },
      (error: unknown) => {
        inflight.delete(tracked);
        if (this.#error === undefined) this.#error = error;
        if (background) this.#host.reportError(error);
      },
    );
    inflight.add(tracked);
  }
}
