import { EventBatches, type EventReceiver } from '../event-batches.js';
import type { SessionEvent } from '../provider.js';

/**
 * Where the 'redis' provider's events of user-bound sessions come out (issue 13). The functions report the
 * sessions a call began or ended in its reply (`{ 0, reply, type, reason, handle, user id, … }`, see
 * `lua/library.ts`); the link hands every function's reply through `take`, which keeps the events and gives
 * back the reply proper. Events are delivered to the one receiver once per event-loop turn (setImmediate),
 * as a batch: a sweep that expired 500 bound sessions is one call. So each event surfaces in the process whose
 * call caused it (its own operation, its sweep, or the access that found a session expired), once.
 */
export class EventInbox {
  readonly #batches = new EventBatches();

  /** Sets the receiver; until there is one, events are dropped where they arrive. */
  onEvents(receiver: EventReceiver): void {
    this.#batches.listen(receiver);
  }

  /** The reply proper of a function call, its events queued. */
  take(reply: unknown): unknown {
    if (!Array.isArray(reply) || reply[0] !== 0) return reply;
    if (this.#batches.listening) {
      for (let i = 2; i + 3 < reply.length; i += 4) {
        this.emit({
          type: String(reply[i]) as SessionEvent['type'],
          reason: String(reply[i + 1]) as SessionEvent['reason'],
          handle: String(reply[i + 2]),
          userId: (reply[i + 3] as Buffer).toString('utf8'),
        });
      }
    }
    return reply[1];
  }

  /** Queues an event the provider itself observed (a rename across groups refused as revoked). */
  emit(event: SessionEvent): void {
    this.#batches.add(event);
  }
}
