import { Op } from '../protocol.js';
import type { ShardStore } from './shard-store.js';

/**
 * While a durable shard's store loads: the sessions `op` names come from the file first if the table lacks
 * them. Count, gc and the user operations, which must see every session (a user's sessions are found from the
 * table's index), finish the load first: the shard answers nothing else meanwhile (about 6 s of CPU for a
 * million sessions here). Stats does not wait: its `sessions` grows as the load goes on. A failed load is
 * the shard's failure from then on: `loadFailed` records it and returns the error to throw.
 */
export function readThroughFor(
  store: ShardStore,
  op: unknown[],
  now: number,
  loadFailed: (error: unknown) => Error,
): void {
  switch (op[0]) {
    case Op.Stats:
    case Op.Exit:
    case Op.Hang:
      return;
    case Op.Count:
    case Op.Gc:
    case Op.SessionsOf:
    case Op.Revoke:
    case Op.RevokeUser:
      try {
        store.loadSlice(now);
      } catch (error) {
        throw loadFailed(error);
      }
      return;
    case Op.Rename:
      store.readThrough(op[2] as string);
      store.readThrough(op[1] as string);
      return;
    default:
      store.readThrough(op[1] as string);
  }
}
