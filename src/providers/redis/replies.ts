import {
  NotANumberError,
  SessionError,
  SessionExistsError,
  SessionTooLargeError,
  StoreUnavailableError,
} from '../../errors.js';
import type { SessionSnapshot } from '../provider.js';
import { parseExtras, parseMeta, type StoredMeta } from './session-meta.js';

/**
 * A session under move by a rename across slot groups whose time is up: the caller settles the move (see
 * `cluster-rename.ts`) and tries again. A StoreUnavailableError, should it ever reach the caller.
 */
export class StaleMoveReply extends StoreUnavailableError {
  constructor(
    readonly target: string,
    readonly deadline: number,
  ) {
    super('session store unavailable: a rename across slot groups left this session frozen');
  }
}

/** A move whose new id was fenced by a recovery before the copy arrived: the rename fails, retryable. */
export class MoveCancelledReply extends StoreUnavailableError {
  constructor() {
    super('session store unavailable: the rename was cancelled by a recovery');
  }
}

/**
 * A bound session moving to another slot group (Cluster) was revoked meanwhile: the put refused it, and the
 * rename ends it (see `cluster-rename.ts`). A StoreUnavailableError, should it ever reach the caller.
 */
export class RevokedInTransitReply extends StoreUnavailableError {
  constructor() {
    super('session store unavailable: the session was revoked while it moved');
  }
}

/** Redis answered that the library's functions are not loaded on the node (a fresh or flushed server). */
export function isFunctionNotFound(error: unknown): boolean {
  return error instanceof Error && /^(ERR )?Function not found/.test(error.message);
}

/**
 * Turns what a Redis call rejected with into the error the provider reports: the functions' own `SS…`
 * replies into their typed errors, everything else (a refused or dropped connection, a timeout, a failover
 * in progress, CLUSTERDOWN, OOM, LOADING, READONLY…) into `StoreUnavailableError`, which the adapters
 * answer with 503 and Retry-After. Redis's messages name commands and slots, never keys, so no session id
 * reaches a log through them.
 */
export function mapRedisError(error: unknown): Error {
  if (error instanceof SessionError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const [code, ...rest] = message.split(' ');
  switch (code) {
    case 'SSEXISTS':
      return new SessionExistsError();
    case 'SSTOOLARGE':
      return new SessionTooLargeError(rest.join(' '));
    case 'SSNAN':
      return new NotANumberError(rest.join(' '));
    case 'SSMOVING':
      return new StaleMoveReply(rest[0] as string, Number(rest[1]));
    case 'SSCANCELLED':
      return new MoveCancelledReply();
    case 'SSREVOKED':
      return new RevokedInTransitReply();
    default:
      return new StoreUnavailableError(`session store unavailable: Redis: ${message}`);
  }
}

/** A session's hash as a flat [field, value, …] array: the meta and the values apart. */
export function parseHash(flat: readonly Buffer[]): {
  meta: StoredMeta;
  values: Map<string, Uint8Array>;
} {
  let meta: StoredMeta | undefined;
  const values = new Map<string, Uint8Array>();
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i] as Buffer;
    const value = flat[i + 1] as Buffer;
    if (field.length === 0) meta = parseMeta(value);
    else values.set(field.toString('utf8'), value);
  }
  if (!meta)
    throw new StoreUnavailableError('session store unavailable: a session hash without its meta field');
  return { meta, values };
}

/** A session's hash as `read` answers it: the contract's snapshot (timestamps and values). */
export function parseSnapshot(flat: readonly Buffer[]): SessionSnapshot {
  const { meta, values } = parseHash(flat);
  return snapshot(meta, values);
}

/**
 * What a plain HGETALL found: null for no session; the snapshot of a session alive at `now`; undefined when
 * it must go through the read function (dead by the provider's clock, so to be removed; or being moved).
 */
export function snapshotOf(hash: Record<string, Buffer>, now: number): SessionSnapshot | null | undefined {
  const raw = hash[''];
  if (raw === undefined) return null;
  const meta = parseMeta(raw);
  if (meta.expiresAt <= now || meta.moving) return undefined;
  const values = new Map<string, Uint8Array>();
  for (const field of Object.keys(hash)) if (field !== '') values.set(field, hash[field] as Buffer);
  return snapshot(meta, values);
}

function snapshot(meta: StoredMeta, values: Map<string, Uint8Array>): SessionSnapshot {
  const base = {
    createdAt: meta.createdAt,
    idleExpiresAt: meta.idleExpiresAt,
    absoluteExpiresAt: meta.absoluteExpiresAt,
    expiresAt: meta.expiresAt,
    values,
  };
  // An unbound session with the policy's timeouts has no extras: its snapshot is what it always was.
  if (meta.extras === '') return base;
  const { binding, retimed } = parseExtras(meta.extras);
  return {
    ...base,
    ...(retimed ? { idleTimeoutMs: meta.idleTimeoutMs } : {}),
    ...(binding ? { binding } : {}),
  };
}

/** The number an incr function answered (`%.17g`, which also spells the infinities its own way). */
export function parseNumber(reply: Buffer): number {
  const text = reply.toString('latin1');
  if (text === 'inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}
