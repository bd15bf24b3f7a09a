import { InvalidArgumentError, UnsupportedError } from './errors.js';
import type { SessionEvent, SessionProvider } from './providers/provider.js';

/** The event types of `manager.on`. */
export type SessionEventType = SessionEvent['type'];
/** A listener of `manager.on`: one call per event. */
export type SessionEventListener = (event: SessionEvent) => void;

const TYPES: readonly SessionEventType[] = ['created', 'destroyed', 'expired', 'evicted'];

/**
 * The manager's listeners of session events (issue 13). The provider delivers events in batches (one per
 * event-loop turn, or per shard message); each event goes to the listeners of its type, one call each. The
 * provider is subscribed on the first `on`, so a manager nobody listens to never asks for events. A listener
 * that throws does not stop the others: the error is reported like an unawaited commit's.
 */
export class SessionEvents {
  readonly #listeners = new Map<SessionEventType, Set<SessionEventListener>>();
  readonly #provider: SessionProvider;
  readonly #reportError: (error: unknown) => void;
  #subscribed = false;

  constructor(provider: SessionProvider, reportError: (error: unknown) => void) {
    this.#provider = provider;
    this.#reportError = reportError;
  }

  on(type: SessionEventType, listener: SessionEventListener): void {
    if (!TYPES.includes(type))
      throw new InvalidArgumentError(`on: unknown event type ${JSON.stringify(type)}`);
    if (typeof listener !== 'function') throw new InvalidArgumentError('on: the listener must be a function');
    this.#subscribe();
    let listeners = this.#listeners.get(type);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(type, listeners);
    }
    listeners.add(listener);
  }

  off(type: SessionEventType, listener: SessionEventListener): void {
    this.#listeners.get(type)?.delete(listener);
  }

  #subscribe(): void {
    if (this.#subscribed) return;
    const provider = this.#provider;
    if (typeof provider.onEvents !== 'function') {
      throw new UnsupportedError('on: this provider does not emit session events (it lacks events)');
    }
    provider.onEvents((events) => this.#dispatch(events));
    this.#subscribed = true;
  }

  #dispatch(events: readonly SessionEvent[]): void {
    for (const event of events) {
      for (const listener of this.#listeners.get(event.type) ?? []) {
        try {
          listener(event);
        } catch (error) {
          this.#reportError(error);
        }
      }
    }
  }
}
