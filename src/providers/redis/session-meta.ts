import type { SessionMeta } from '../provider.js';

/**
 * The field `""` of a session's hash: its timestamps as decimal numbers separated by spaces, readable with
 * `HGET sess:{t}:<sid> ""`:
 *
 *     <createdAt> <idleTimeoutMs> <idleExpiresAt> <absoluteExpiresAt> <bytes>[ <moveTo> <moveUntil>]
 *
 * `bytes` is what the session counts against `maxSessionBytes` (keys plus values), kept so a commit checks
 * the limit from the keys it changes alone. The last two are present only while a rename across slot groups
 * moves the session (Cluster). Fields are only ever appended, so older readers keep working.
 */
export interface StoredMeta extends SessionMeta {
  readonly idleTimeoutMs: number;
  readonly bytes: number;
}

/** Parses a meta string (a Buffer from Redis). */
export function parseMeta(raw: Buffer | string): StoredMeta {
  const [createdAt, idleTimeoutMs, idleExpiresAt, absoluteExpiresAt, bytes] = raw
    .toString('latin1')
    .split(' ', 5)
    .map(Number) as [number, number, number, number, number];
  return {
    createdAt,
    idleTimeoutMs,
    idleExpiresAt,
    absoluteExpiresAt,
    expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
    bytes,
  };
}

/** The contract's view of the meta: the four timestamps only. */
export function publicMeta(meta: StoredMeta): SessionMeta {
  return {
    createdAt: meta.createdAt,
    idleExpiresAt: meta.idleExpiresAt,
    absoluteExpiresAt: meta.absoluteExpiresAt,
    expiresAt: meta.expiresAt,
  };
}
