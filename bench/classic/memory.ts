import type { ClassicProvider, ClassicSession } from './provider.js';

/**
 * The classic memory provider: a map from id to an element of a list kept in access order (most recent at
 * the front), so GC walks from the back and stops at the first live session.
 *
 * Each call answers on a later turn of the event loop (`setImmediate`), as express-session's MemoryStore
 * does and as any store behind I/O would. That is what makes the classic design observable in one thread:
 * the manager's lock is held across these calls, so every session operation of every request queues behind
 * the one in progress. Answering synchronously would hide the lock entirely.
 */

interface Element {
  readonly store: MemorySessionStore;
  prev: Element | null;
  next: Element | null;
}

function later<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(resolve, value));
}

class MemorySessionStore implements ClassicSession {
  timeAccessed = Date.now();
  readonly values = new Map<string, unknown>();

  constructor(
    private readonly sid: string,
    private readonly owner: MemoryProvider,
  ) {}

  async set(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
    await this.owner.sessionUpdate(this.sid);
  }

  async get(key: string): Promise<unknown> {
    await this.owner.sessionUpdate(this.sid);
    return this.values.get(key);
  }

  async delete(key: string): Promise<void> {
    this.values.delete(key);
    await this.owner.sessionUpdate(this.sid);
  }

  sessionID(): string {
    return this.sid;
  }
}

/** The classic `Provider` for memory: `container/list` plus `map[string]*list.Element`. */
export class MemoryProvider implements ClassicProvider {
  private readonly sessions = new Map<string, Element>();
  private front: Element | null = null;
  private back: Element | null = null;

  sessionInit(sid: string): Promise<ClassicSession> {
    const store = new MemorySessionStore(sid, this);
    const element: Element = { store, prev: null, next: null };
    this.pushFront(element);
    this.sessions.set(sid, element);
    return later(store);
  }

  sessionRead(sid: string): Promise<ClassicSession> {
    const element = this.sessions.get(sid);
    if (element !== undefined) return later(element.store);
    // The classic design's session fixation: an unknown id is adopted as a new session.
    return this.sessionInit(sid);
  }

  sessionDestroy(sid: string): Promise<void> {
    const element = this.sessions.get(sid);
    if (element !== undefined) {
      this.unlink(element);
      this.sessions.delete(sid);
    }
    return later(undefined);
  }

  sessionGC(maxLifetimeS: number): Promise<void> {
    const oldest = Date.now() - maxLifetimeS * 1000;
    while (this.back !== null && this.back.store.timeAccessed < oldest) {
      const element = this.back;
      this.unlink(element);
      this.sessions.delete(element.store.sessionID());
    }
    return later(undefined);
  }

  /** Marks the session accessed now and moves it to the front of the list. */
  sessionUpdate(sid: string): Promise<void> {
    const element = this.sessions.get(sid);
    if (element !== undefined) {
      element.store.timeAccessed = Date.now();
      this.unlink(element);
      this.pushFront(element);
    }
    return later(undefined);
  }

  private pushFront(element: Element): void {
    element.prev = null;
    element.next = this.front;
    if (this.front !== null) this.front.prev = element;
    this.front = element;
    if (this.back === null) this.back = element;
  }

  private unlink(element: Element): void {
    if (element.prev !== null) element.prev.next = element.next;
    else this.front = element.next;
    if (element.next !== null) element.next.prev = element.prev;
    else this.back = element.prev;
    element.prev = null;
    element.next = null;
  }
}
