import type { SessionMeta } from '../provider.js';

/**
 * The field `""` of a session's hash: its timestamps as decimal numbers separated by spaces, readable with
 * `HGET sess:{t}:<sid> ""`:
 *
 *     <createdAt> <idleTimeoutMs> <idleExpiresAt> <absoluteExpiresAt> <bytes>[ m=<newSid>,<moveUntil>]
 *
 * `bytes` is what the session counts against `maxSessionBytes` (keys plus values), kept so a commit checks
 * the limit from the keys it changes alone. `m=` is there only while a rename across slot groups moves the
 * session (Cluster). Anything after the five numbers is a named extra (`name=value`): a field added later
 * (a user binding, say) gets a name of its own, and the functions carry extras they do not know over.
 */
export interface StoredMeta extends SessionMeta {
  readonly idleTimeoutMs: number;
  readonly bytes: number;
  /** True while a rename across slot groups moves the session (the meta has the two move fields). */
  readonly moving: boolean;
}

/** Parses a meta string (a Buffer from Redis). */
export function parseMeta(raw: Buffer | string): StoredMeta {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  // By hand rather than split().map(): this runs for every operation's answer.
  let from = 0;
  const next = (): number => {
    let to = text.indexOf(' ', from);
    if (to === -1) to = text.length;
    const value = Number(text.slice(from, to));
    from = to + 1;
    return value;
  };
  const createdAt = next();
  const idleTimeoutMs = next();
  const idleExpiresAt = next();
  const absoluteExpiresAt = next();
  const bytes = next();
  return {
    createdAt,
    idleTimeoutMs,
    idleExpiresAt,
    absoluteExpiresAt,
    expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
    bytes,
    moving: text.includes(' m=', from - 1),
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

/** A number as the functions take it: the shortest decimal that reads back exactly (and '-0' for -0, which String() spells '0'). */
export const decimal = (n: number): string => (Object.is(n, -0) ? '-0' : String(n));
