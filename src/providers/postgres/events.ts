import type { SessionEvent } from '../provider.js';
import { EventCode } from './user-sql.js';

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
