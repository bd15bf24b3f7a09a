import type { SessionMeta } from '../provider.js';
import { valuePairs } from './delta-args.js';
import type { EventInbox } from './event-inbox.js';
import { groupOf, type KeyLayout } from './key-layout.js';
import type { RedisLink } from './redis-link.js';
import { parseHash, RevokedInTransitReply, type StaleMoveReply } from './replies.js';
import { carriedExtras, decimal, parseExtras, parseMeta, publicMeta } from './session-meta.js';

/**
 * `rename` when the two ids fall in different slot groups on Redis Cluster, where no one script reaches
 * both. (On one server, or within one group, `rename` is one atomic function.) Three steps:
 *
 * 1. **freeze** (old id's node): the session is marked as moving to the new id and its values returned.
 *    From here on the old id is dead to every operation (read null, commit and incr null, destroy false).
 * 2. **put** (new id's node): the copy is stored under the new id, live, and a move record says
 *    `committed`. This is the commit point. It is refused if the new id is taken (`SessionExistsError`) or
 *    if a recovery already cancelled the move.
 * 3. **drop** (old id's node): the frozen copy is deleted; then the move record.
 *
 * What holds (the README's "Rename on Cluster"):
 * - When `rename` resolves, the new id works and the old one does not, on every node: there is no moment,
 *   before or after, when both work. If step 3 fails, the frozen copy is already dead and is dropped by the
 *   first access after the move window.
 * - When it rejects, the session is under the old id: step 2 failed or was refused, and step 1 is undone at
 *   once (unfreeze). If that node does not answer either, the old id stays dead until the move window
 *   (4 × operationTimeoutMs) has passed; then the first access settles the move from the move record: if no
 *   copy was committed, the record is fenced (a late put is refused) and the old session comes back; if a
 *   copy was committed (a put applied whose answer was lost), the session lives on under the new id only.
 * - No step is retried blindly: a put whose answer was lost is settled by the record, never applied twice.
 * - Cost: three round trips instead of one, and the move record (a few bytes) while the rename runs.
 * - A session bound to a user (issue 13) takes its binding along. A `revoke`/`revokeUser` of that user while
 *   it moves ends it: the frozen copy is dropped by the revocation's visit to the old group, and the put is
 *   refused by the tombstone the revocation left in the new group (or, if the put came first, the copy is
 *   ended by the visit to the new group). A put refused so drops the frozen copy, and the rename resolves null.
 */

/** What the steps need from the provider. */
export interface MoveContext {
  readonly link: RedisLink;
  readonly layout: KeyLayout;
  /** How long a session may stay frozen before an access settles its move (4 × operationTimeoutMs). */
  readonly windowMs: number;
  /** Counts a session the freeze found expired (and removed). */
  onExpired(group: number): void;
  /** Where the event of a session revoked in transit goes. */
  readonly inbox: EventInbox;
}

const sessionKey = (context: MoveContext, sid: string): string[] => [context.layout.sessionKey(sid)];

/** Renames across slot groups in three steps; see the module comment for what holds. */
export async function renameAcrossGroups(
  context: MoveContext,
  oldSid: string,
  newSid: string,
  now: number,
): Promise<SessionMeta | null> {
  const { link, layout } = context;
  const from = sessionKey(context, oldSid);
  const frozen = await link.fcall('freeze', from, [newSid, decimal(now), decimal(now + context.windowMs)]);
  if (frozen === null) return null;
  if (frozen === 0) {
    context.onExpired(groupOf(oldSid));
    return null;
  }
  const { meta, values } = parseHash(frozen as Buffer[]);
  const newGroup = groupOf(newSid);
  let committed: Buffer;
  try {
    committed = (await link.fcall(
      'put',
      [layout.sessionKey(newSid, newGroup), layout.moveKey(newSid, newGroup)],
      [
        decimal(now),
        decimal(meta.createdAt),
        decimal(meta.idleTimeoutMs),
        decimal(meta.absoluteExpiresAt),
        decimal(meta.bytes),
        decimal(Math.ceil(meta.expiresAt)),
        carriedExtras(meta.extras),
        ...valuePairs(values),
      ],
    )) as Buffer;
  } catch (error) {
    if (error instanceof RevokedInTransitReply) return dropRevoked(context, from, newSid, meta.extras);
    // Refused, or unknown: the session stays under the old id. If the old node does not answer now, the
    // first access after the window settles the move from the record.
    await link.fcall('unfreeze', from, [newSid]).catch(() => undefined);
    throw error;
  }
  try {
    await link.fcall('drop', from, [newSid]);
    // The record is only needed to settle a frozen copy; there is none left.
    link.command((client) => client.del(layout.moveKey(newSid, newGroup))).catch(() => undefined);
  } catch {
    // The frozen copy is dead to every operation already; an access after the window drops it.
  }
  return publicMeta(parseMeta(committed));
}

/** The put refused a copy revoked in transit: the frozen one goes too (dead already), and the end is reported. */
async function dropRevoked(
  context: MoveContext,
  from: string[],
  newSid: string,
  extras: string,
): Promise<null> {
  // If the old node does not answer, the revocation's own visit to the old group drops the frozen copy.
  await context.link.fcall('drop', from, [newSid]).catch(() => undefined);
  const { binding } = parseExtras(extras);
  if (binding) {
    const { handle, userId } = binding;
    context.inbox.emit({ type: 'destroyed', handle, userId, reason: 'revoke' });
  }
  return null;
}

/**
 * Settles a move nobody finished (its renaming process died, or lost Redis), found by an access to the
 * frozen session after the window: the record decides, and a cancelled move is fenced so a late put fails.
 */
export async function settleStaleMove(
  context: MoveContext,
  sid: string,
  stale: StaleMoveReply,
): Promise<void> {
  const { link, layout } = context;
  const decision = (await link.fcall(
    'fence',
    [layout.moveKey(stale.target)],
    [decimal(Math.ceil(stale.deadline))],
  )) as Buffer | string;
  if (decision.toString() !== 'committed') {
    await link.fcall('unfreeze', sessionKey(context, sid), [stale.target]);
    return;
  }
  await link.fcall('drop', sessionKey(context, sid), [stale.target]);
  link.command((client) => client.del(layout.moveKey(stale.target))).catch(() => undefined);
}
