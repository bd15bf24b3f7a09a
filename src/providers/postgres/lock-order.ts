import type { BatchOp } from './batch-codec.js';
import { OpKind } from './batch-sql.js';

/**
 * The order a batch runs its operations in: grouped by session, sessions in id order, each session's
 * operations in the order they were issued. A batch is one transaction and holds each row lock it takes
 * until it ends, so two processes whose batches locked the same two sessions in opposite orders would
 * deadlock (PostgreSQL breaks that after `deadlock_timeout`, failing one batch). Taking locks in id order
 * everywhere rules it out. A rename links its two ids into one group: what was issued on the new id after
 * the rename (or on the old one before it) keeps its place relative to the rename.
 *
 * Returns the indexes of `ops` in execution order.
 */
export function lockOrder(ops: readonly BatchOp[]): number[] {
  const order = ops.map((_, i) => i);
  const renames = ops.some((op) => op.kind === OpKind.Rename);
  const group = renames ? renameGroups(ops) : (sid: string) => sid;
  const keys = ops.map((op) => group(op.sid));
  return order.sort((a, b) => {
    const ka = keys[a] as string;
    const kb = keys[b] as string;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
}

/** Union-find over the ids renames link: each id maps to the smallest id of its group. */
function renameGroups(ops: readonly BatchOp[]): (sid: string) => string {
  const parent = new Map<string, string>();
  const find = (sid: string): string => {
    let root = sid;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    parent.set(sid, root);
    return root;
  };
  for (const op of ops) {
    if (op.kind !== OpKind.Rename || op.arg === undefined) continue;
    const a = find(op.sid);
    const b = find(op.arg);
    if (a < b) parent.set(b, a);
    else if (b < a) parent.set(a, b);
  }
  return find;
}
