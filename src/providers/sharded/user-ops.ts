import { SessionError } from '../../errors.js';
import type { SessionTable } from '../session-table.js';
import { setSessionTimeouts } from '../session-timeouts.js';
import { ownedText } from './owned-string.js';
import { encodeBinding, encodeMeta, Op } from './protocol.js';

/** Applies a shard's operations of issue 13 (users, timeouts) to its table; kept out of worker.ts's switch. */
export function applyUserOp(table: SessionTable, op: unknown[], now: number): unknown {
  switch (op[0]) {
    case Op.BindUser: {
      const label = op[3] === null ? undefined : ownedText(op[3] as string);
      const binding = table.users.bind(op[1] as string, ownedText(op[2] as string), label, now);
      return binding ? encodeBinding(binding) : null;
    }
    case Op.SessionsOf: {
      const flat: unknown[] = [];
      for (const s of table.users.sessionsOf(op[1] as string, now)) {
        flat.push(s.handle, s.createdAt, s.lastSeenAt, s.expiresAt, s.label ?? null);
      }
      return flat;
    }
    case Op.Revoke:
      return table.users.revoke(op[1] as string, op[2] as string, now);
    case Op.RevokeUser:
      return table.users.revokeUser(op[1] as string, (op[2] as string | null) ?? undefined, now);
    case Op.SetTimeouts: {
      const policy = { idleTimeoutMs: op[2] as number, absoluteTimeoutMs: op[3] as number };
      const meta = setSessionTimeouts(table, op[1] as string, policy, now);
      return meta ? encodeMeta(meta) : null;
    }
    default:
      throw new SessionError('ERR_MALFORMED_FRAME', `unknown operation ${String(op[0])}`);
  }
}
