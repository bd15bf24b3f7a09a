import { Op, type WireOp } from './protocol.js';

// Which operations the read cache (read-cache.ts) must keep its copies of sessions away from.

/**
 * Whether the operation changes the session named by `op[1]` (and a rename also `op[2]`): it makes the cached
 * snapshot stale. A test of the code, not an array of ids: this runs twice for every operation sent.
 */
export function writesSession(op: WireOp): boolean {
  switch (op[0]) {
    case Op.Init:
    case Op.Commit:
    case Op.Incr:
    case Op.Take:
    case Op.Put:
    case Op.Destroy:
    case Op.BindUser:
    case Op.SetTimeouts:
    case Op.Rename:
      return true;
    default:
      return false;
  }
}

/**
 * Operations that may change sessions they do not name (a sweep at any time, revocations by user, the fault
 * injections): while one is in flight, nothing is served from the cache, so a read sent after one is ordered
 * after it, as it would be at the shard.
 */
export function isBarrier(op: WireOp): boolean {
  const code = op[0];
  return (
    code === Op.Gc || code === Op.Revoke || code === Op.RevokeUser || code === Op.Hang || code === Op.Exit
  );
}
