import type { SessionEvent } from './provider.js';

/** Where a provider's events go: one call per batch. */
export type EventReceiver = (events: readonly SessionEvent[]) => void;

/**
 * Events of bound sessions handed to the receiver in batches: at most one call per event-loop turn
 * (setImmediate), however many operations produced events in it, so a sweep that ended 500 bound sessions is
 * one call, never one message per event. Nothing is kept until someone listens. Every provider's events go
 * through one of these: the session table's user index, and the 'redis' and 'postgres' providers.
 */
export class EventBatches {
  #receiver: EventReceiver | undefined;
  #pending: SessionEvent[] = [];
  #scheduled = false;

  /** Whether anyone listens (an event is then worth building). */
  get listening(): boolean {
    return this.#receiver !== undefined;
  }

  /** Sets the receiver; until there is one, events are dropped where they arrive. */
  listen(receiver: EventReceiver): void {
    this.#receiver = receiver;
  }

  add(event: SessionEvent): void {
    if (!this.#receiver) return;
    this.#pending.push(event);
    this.#schedule();
  }

  addAll(events: readonly SessionEvent[]): void {
    if (!this.#receiver || events.length === 0) return;
    for (const event of events) this.#pending.push(event);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const batch = this.#pending;
      this.#pending = [];
      this.#receiver?.(batch);
    });
  }
}
