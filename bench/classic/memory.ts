import type { ClassicProvider, ClassicSession } from './provider.js';

/**
 * The classic memory provider: a map from id to an element of a list kept in access order (most recent at
 * the front), so GC walks from the back and stops at the first live session.
 *
 * When its calls answer is a choice (`answer`):
 * - `'later'`: on a later turn of the event loop (`setImmediate`), as express-session's MemoryStore does and
 *   as any store behind I/O would. The manager's lock is then held across a turn, so every session operation
 *   of every request queues behind the one in progress, and two requests' Get and Set can interleave: this is
 *   the classic design with a real (remote) provider, and it loses updates.
 * - `'now'`: at once (an already resolved promise), as the Go design's map answers. No other request runs
 *   between a request's Get and its Set, so the lock is never contended and nothing is lost: the classic
 *   design as its chapter runs it, which the `'later'` variant would otherwise make look worse than it is.
 */
export type ClassicAnswer = 'later' | 'now';

interface Element {
  readonly store: MemorySessionStore;
  prev: Element | null;
  next: Element | null;
}

function later<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(resolve, value));
}

function now<T>(value: T): Promise<T> {
  return Promise.resolve(value);
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
  private readonly answer: <T>(value: T) => Promise<T>;

  constructor(answer: ClassicAnswer = 'later') {
    this.answer = answer === 'later' ? later : now;
  }

  sessionInit(sid: string): Promise<ClassicSession> {
    const store = new MemorySessionStore(sid, this);
    const element: Element = { store, prev: null, next: null };
    this.pushFront(element);
    this.sessions.set(sid, element);
    return this.answer(store);
  }

  sessionRead(sid: string): Promise<ClassicSession> {
    const element = this.sessions.get(sid);
    if (element !== undefined) return this.answer(element.store);
    // The classic design's session fixation: an unknown id is adopted as a new session.
    return this.sessionInit(sid);
  }

  sessionDestroy(sid: string): Promise<void> {
    const element = this.sessions.get(sid);
    if (element !== undefined) {
      this.unlink(element);
      this.sessions.delete(sid);
    }
    return this.answer(undefined);
  }

  sessionGC(maxLifetimeS: number): Promise<void> {
    const oldest = Date.now() - maxLifetimeS * 1000;
    while (this.back !== null && this.back.store.timeAccessed < oldest) {
      const element = this.back;
      this.unlink(element);
      this.sessions.delete(element.store.sessionID());
    }
    return this.answer(undefined);
  }

  /** Marks the session accessed now and moves it to the front of the list. */
  sessionUpdate(sid: string): Promise<void> {
    const element = this.sessions.get(sid);
    if (element !== undefined) {
      element.store.timeAccessed = Date.now();
      this.unlink(element);
      this.pushFront(element);
    }
    return this.answer(undefined);
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
