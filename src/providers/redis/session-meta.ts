import type { SessionBinding, SessionMeta } from '../provider.js';

/**
 * The field `""` of a session's hash: its timestamps as decimal numbers separated by spaces, readable with
 * `HGET sess:{t}:<sid> ""`:
 *
 *     <createdAt> <idleTimeoutMs> <idleExpiresAt> <absoluteExpiresAt> <bytes>[ m=<newSid>,<moveUntil>]
 *       [ u=<handle>,<boundAt>,<userId>[,<label>]][ t=1]
 *
 * `bytes` is what the session counts against `maxSessionBytes` (keys plus values), kept so a commit checks
 * the limit from the keys it changes alone. `m=` is there only while a rename across slot groups moves the
 * session (Cluster); `u=` while it is bound to a user (user id and label percent-encoded); `t=1` once
 * `setTimeouts` gave it its own timeouts. Anything after the five numbers is a named extra (`name=value`):
 * a field added later gets a name of its own, and the functions carry extras they do not know over.
 */
export interface StoredMeta extends SessionMeta {
  readonly idleTimeoutMs: number;
  readonly bytes: number;
  /** True while a rename across slot groups moves the session (the meta has the two move fields). */
  readonly moving: boolean;
  /** Everything after the five numbers, with its leading space; '' for an unbound session at rest. */
  readonly extras: string;
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
  const extras = from > text.length ? '' : text.slice(from - 1);
  return {
    createdAt,
    idleTimeoutMs,
    idleExpiresAt,
    absoluteExpiresAt,
    expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
    bytes,
    moving: extras !== '' && extras.includes(' m='),
    extras,
  };
}

/** What the named extras say about a session: its binding and whether it has its own timeouts. */
export function parseExtras(extras: string): { binding?: SessionBinding; retimed: boolean } {
  const bound = / u=([^,\s]+),[^,\s]+,([^,\s]+)(,\S*)?/.exec(extras);
  const retimed = / t=1(?: |$)/.test(extras);
  if (!bound) return { retimed };
  const [, handle, userId, label] = bound as unknown as [string, string, string, string | undefined];
  const binding: SessionBinding =
    label === undefined
      ? { userId: unpercent(userId), handle }
      : { userId: unpercent(userId), handle, label: unpercent(label.slice(1)) };
  return { binding, retimed };
}

/** The extras a session takes along when it moves to another slot group: all but the move itself. */
export const carriedExtras = (extras: string): string => extras.replace(/ m=\S+/, '');

// The functions percent-encode every byte outside [A-Za-z0-9-_.~] of the UTF-8 text: back to bytes, then text.
function unpercent(text: string): string {
  if (!text.includes('%')) return text;
  const latin1 = text.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
  return Buffer.from(latin1, 'latin1').toString('utf8');
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
