import session from 'express-session';
import { afterEach, vi } from 'vitest';

/** What a test file closes after each test: stores and providers (a failed close is ignored). */
export type Closable = { close(): Promise<unknown> };

/**
 * The list a test pushes its stores and providers onto: after each test they are closed, and real timers are
 * back (a test that faked them and failed would otherwise leave them on for the next).
 */
export function closedAfterEach(): Closable[] {
  const opened: Closable[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const each of opened.splice(0)) await each.close().catch(() => undefined);
  });
  return opened;
}

/** Session data whose cookie expires at `expires`, as express-session hands it to a store. */
export function expiringAt(fields: Record<string, unknown>, expires: number | string | Date): object {
  return { ...fields, cookie: { expires, originalMaxAge: null, path: '/' } };
}

/** The callback methods of an express-session store, as promises (the callback is asserted to run later). */
export class StoreCalls {
  constructor(readonly store: session.Store) {}

  get(sid: string): Promise<session.SessionData | null | undefined> {
    return this.#call((done) => this.store.get(sid, done));
  }

  set(sid: string, data: object): Promise<void> {
    return this.#call((done) => this.store.set(sid, data as session.SessionData, done));
  }

  touch(sid: string, data: object): Promise<void> {
    return this.#call((done) => this.store.touch?.(sid, data as session.SessionData, done as () => void));
  }

  destroy(sid: string): Promise<void> {
    return this.#call((done) => this.store.destroy(sid, done));
  }

  /** Loads as express-session does on a request: `get`, then `createSession` (a real Session and Cookie). */
  load(sid: string): Promise<(session.Session & Record<string, unknown>) | undefined> {
    // Typed as handing SessionData; what it hands is a Session (createSession), which is the point here.
    return this.#call((done) => this.store.load(sid, done as (error: unknown, value?: object) => void));
  }

  async all(): Promise<Record<string, session.SessionData>> {
    const all = await this.#call<session.SessionData[] | Record<string, session.SessionData> | null>((done) =>
      this.store.all?.(done),
    );
    if (all === null || all === undefined || Array.isArray(all)) throw new Error('expected sessions by id');
    return all;
  }

  length(): Promise<number | undefined> {
    return this.#call((done) => this.store.length?.(done));
  }

  clear(): Promise<void> {
    return this.#call((done) => this.store.clear?.(done));
  }

  /** Runs `start` with a node-style callback; rejects if the callback runs before `start` returns. */
  #call<T>(start: (done: (error?: unknown, value?: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      let returned = false;
      start((error, value) => {
        if (!returned) reject(new Error('the callback ran before the method returned'));
        else if (error) reject(error);
        else resolve(value as T);
      });
      returned = true;
    });
  }
}

/** A session object as express-session builds one: its fields, and a cookie with `maxAge`. */
export function sessionData(fields: Record<string, unknown>, maxAgeMs: number | null = 60_000): object {
  const Cookie = session.Cookie as unknown as new (options: object) => session.Cookie;
  return { ...fields, cookie: new Cookie(maxAgeMs === null ? {} : { maxAge: maxAgeMs }) };
}
