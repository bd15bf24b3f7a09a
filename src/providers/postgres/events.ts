import type { SessionEvent } from '../provider.js';
import { EventCode } from './user-sql.js';

type EventReceiver = (events: readonly SessionEvent[]) => void;

const BY_CODE: Record<number, Pick<SessionEvent, 'type' | 'reason'>> = {
  [EventCode.Created]: { type: 'created', reason: 'login' },
  [EventCode.Destroyed]: { type: 'destroyed', reason: 'destroy' },
  [EventCode.Revoked]: { type: 'destroyed', reason: 'revoke' },
  [EventCode.ExpiredIdle]: { type: 'expired', reason: 'idle' },
  [EventCode.ExpiredAbsolute]: { type: 'expired', reason: 'absolute' },
};

/** The event an `EventCode` of the SQL side stands for. Throws on an unknown code (a bug, never a user error). */
export function eventOf(code: number, userId: string, handle: string): SessionEvent {
  const kind = BY_CODE[code];
  if (!kind) throw new Error(`postgres: unknown event code ${code}`);
  return { type: kind.type, handle, userId, reason: kind.reason };
}

/**
 * The 'postgres' provider's events of bound sessions, handed to the receiver in batches: at most one call per
 * event-loop turn (setImmediate), however many statements (batches, GC statements, revocations) answered in it.
 * Each event comes from the one statement that began or ended the session, in this process: an event is
 * emitted once, by the process whose statement did it (see docs/postgres.md). Nothing is kept until someone
 * listens.
 */
export class EventBatches {
  #receiver: EventReceiver | undefined;
  #pending: SessionEvent[] = [];
  #scheduled = false;

  listen(receiver: EventReceiver): void {
    this.#receiver = receiver;
  }

  add(events: readonly SessionEvent[]): void {
    if (!this.#receiver || events.length === 0) return;
    this.#pending.push(...events);
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
