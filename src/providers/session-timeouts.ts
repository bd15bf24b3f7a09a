import { timesOf, withTimes } from './packed-record.js';
import type { SessionMeta, SessionPolicy } from './provider.js';
import type { SessionTable } from './session-table.js';

/**
 * Gives a live session its own timeouts (remember-me): the idle deadline slides from `now`, the absolute one
 * counts from creation. Done as a take and a put on the same table, which refile the record in the expiry
 * index and keep its binding: no new path through the table for a rare operation.
 */
export function setSessionTimeouts(
  table: SessionTable,
  sid: string,
  policy: SessionPolicy,
  now: number,
): SessionMeta | null {
  const record = table.take(sid, now);
  if (!record) return null;
  const times = timesOf(record.packed);
  const packed = withTimes(record.packed, {
    ...times,
    idleTimeoutMs: policy.idleTimeoutMs,
    absoluteExpiresAt: times.createdAt + policy.absoluteTimeoutMs,
  });
  return table.put(sid, { ...record, packed, retimed: true }, now);
}
