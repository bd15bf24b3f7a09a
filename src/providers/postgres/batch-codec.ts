import { NotANumberError, SessionExistsError, SessionTooLargeError } from '../../errors.js';
import type { SessionBinding, SessionEvent, SessionMeta, SessionSnapshot } from '../provider.js';
import type { ResolvedLimits } from '../provider-options.js';
import { OpKind, OpStatus } from './batch-sql.js';
import { eventOf } from './events.js';

/**
 * One operation as `<table>_apply_v2` takes it. Sets and deletes name distinct keys (a delta resolved to its
 * effect: see `resolveDelta`), and their values are the provider's own copies.
 */
export interface BatchOp {
  readonly kind: OpKind;
  readonly sid: string;
  /** incr's key, rename's new id, bind's user id. */
  readonly arg?: string;
  /** bind's new handle (used if the session is not bound to that user already). */
  readonly arg2?: string;
  /** bind's label. */
  readonly arg3?: string | undefined;
  /** incr's amount, init's and setTimeouts' idle timeout. */
  readonly num?: number;
  /** init's and setTimeouts' absolute timeout. */
  readonly num2?: number;
  readonly sets?: readonly (readonly [string, Uint8Array])[];
  readonly deletes?: readonly string[];
}

/** An operation's answer: what the provider's method resolves, or the typed error it rejects with. */
export type OpOutcome = { readonly value: unknown; readonly error?: undefined } | { readonly error: Error };

const SQL_INT_MAX = 2_147_483_647;

/** The parameters of one call of `<table>_apply_v2`, in its order. */
export function batchParams(
  now: number,
  ops: readonly BatchOp[],
  limits: ResolvedLimits,
  lockTimeoutMs: number,
): unknown[] {
  const kinds: number[] = [];
  const sids: string[] = [];
  const args: (string | null)[] = [];
  const args2: (string | null)[] = [];
  const args3: (string | null)[] = [];
  let binds = false;
  const nums: (number | null)[] = [];
  const nums2: (number | null)[] = [];
  const setCounts: number[] = [];
  const setKeys: string[] = [];
  const setValues: Uint8Array[] = [];
  const deleteCounts: number[] = [];
  const deleteKeys: string[] = [];
  for (const op of ops) {
    kinds.push(op.kind);
    sids.push(op.sid);
    args.push(op.arg ?? null);
    args2.push(op.arg2 ?? null);
    args3.push(op.arg3 ?? null);
    if (op.kind === OpKind.Bind) binds = true;
    nums.push(op.num ?? null);
    nums2.push(op.num2 ?? null);
    const sets = op.sets ?? [];
    setCounts.push(sets.length);
    for (const [key, value] of sets) {
      setKeys.push(key);
      setValues.push(value);
    }
    const deletes = op.deletes ?? [];
    deleteCounts.push(deletes.length);
    for (const key of deletes) deleteKeys.push(key);
  }
  return [
    now,
    kinds,
    sids,
    args,
    // Only bindings use them: a batch without one sends them empty rather than a NULL per operation.
    binds ? args2 : [],
    binds ? args3 : [],
    nums,
    nums2,
    setCounts,
    setKeys,
    setValues,
    deleteCounts,
    deleteKeys,
    // The SQL side counts in `integer`; a limit past its range cannot be reached anyway (a PostgreSQL field
    // holds at most 1 GB), and sending it as is would fail every batch.
    Math.min(limits.maxKeys, SQL_INT_MAX),
    Math.min(limits.maxSessionBytes, SQL_INT_MAX),
    Math.min(limits.maxValueBytes, SQL_INT_MAX),
    lockTimeoutMs,
  ];
}

/** One row of `<table>_apply_v2`, as the provider's type parsers deliver it. */
interface ResultRow {
  readonly op: number;
  readonly status: number;
  readonly created_at: number | null;
  readonly idle_expires_at: number | null;
  readonly absolute_expires_at: number | null;
  readonly detail: number | null;
  readonly expired: number;
  readonly key: string | null;
  readonly value: Uint8Array | null;
  readonly user_id: string | null;
  readonly handle: string | null;
  readonly label: string | null;
}

/**
 * Turns the rows of one batch into one outcome per operation (in the order of `ops`), counts the expired
 * sessions the batch removed, and collects the events of bound sessions. Throws if the rows do not match the
 * batch (a bug, never a user error).
 */
export function batchOutcomes(
  ops: readonly BatchOp[],
  rows: readonly unknown[],
  limits: ResolvedLimits,
): { outcomes: OpOutcome[]; expired: number; events: SessionEvent[] } {
  const outcomes: OpOutcome[] = [];
  const events: SessionEvent[] = [];
  let expired = 0;
  let values: Map<string, Uint8Array> | undefined;
  for (const raw of rows) {
    const row = raw as ResultRow;
    if (row.status === OpStatus.Value) {
      values?.set(row.key as string, row.value as Uint8Array);
      continue;
    }
    if (row.status === OpStatus.Event) {
      events.push(eventOf(row.detail as number, row.user_id as string, row.handle as string));
      continue;
    }
    const op = ops[row.op - 1];
    if (!op || row.op !== outcomes.length + 1) throw new Error(`apply_v2 answered op ${row.op} out of order`);
    expired += row.expired;
    const outcome = outcomeOf(op, row, limits);
    values = op.kind === OpKind.Read && row.status === OpStatus.Done ? new Map() : undefined;
    outcomes.push(values ? { value: snapshotOf(row, values) } : outcome);
  }
  if (outcomes.length !== ops.length) {
    throw new Error(`apply_v2 answered ${outcomes.length} of ${ops.length} operations`);
  }
  return { outcomes, expired, events };
}

/** A read's answer; its values are filled in as their rows follow. Unbound, untimed: the shape of before. */
function snapshotOf(row: ResultRow, values: Map<string, Uint8Array>): SessionSnapshot {
  const snapshot = { ...metaOf(row), values };
  if (row.user_id === null && row.detail === null) return snapshot;
  return {
    ...snapshot,
    ...(row.detail === null ? {} : { idleTimeoutMs: row.detail }),
    ...(row.user_id === null ? {} : { binding: bindingOf(row) }),
  };
}

function bindingOf(row: ResultRow): SessionBinding {
  const { user_id: userId, handle, label } = row as ResultRow & { user_id: string; handle: string };
  return label === null ? { userId, handle } : { userId, handle, label };
}

function metaOf(row: ResultRow): SessionMeta {
  const idleExpiresAt = row.idle_expires_at as number;
  const absoluteExpiresAt = row.absolute_expires_at as number;
  return {
    createdAt: row.created_at as number,
    idleExpiresAt,
    absoluteExpiresAt,
    expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
  };
}

function outcomeOf(op: BatchOp, row: ResultRow, limits: ResolvedLimits): OpOutcome {
  switch (row.status) {
    case OpStatus.Done:
      if (op.kind === OpKind.Incr) return { value: row.detail };
      if (op.kind === OpKind.Destroy) return { value: true };
      if (op.kind === OpKind.Bind) return { value: bindingOf(row) };
      return { value: metaOf(row) };
    case OpStatus.Missing:
      return { value: op.kind === OpKind.Destroy ? false : null };
    case OpStatus.Taken:
      return { error: new SessionExistsError() };
    case OpStatus.NotANumber:
      return { error: new NotANumberError(`incr: the value under "${op.arg}" is not a number`) };
    case OpStatus.TooManyKeys:
      return {
        error: new SessionTooLargeError(
          `the session would hold ${row.detail} keys, over the limit of ${limits.maxKeys}`,
        ),
      };
    case OpStatus.TooManyBytes:
      return {
        error: new SessionTooLargeError(
          `the session would be ${row.detail} bytes, over the limit of ${limits.maxSessionBytes}`,
        ),
      };
    case OpStatus.IncrNoKeyRoom:
      return {
        error: new SessionTooLargeError(`incr: the session already holds ${row.detail} keys, the limit`),
      };
    case OpStatus.IncrNoByteRoom:
      return { error: new SessionTooLargeError('incr: the session would be over its size limit') };
    default:
      throw new Error(`apply_v2 answered an unknown status ${row.status}`);
  }
}

/** Parsers for the columns the provider reads, whatever parsers the app installed in `pg.types`. */
export const RESULT_TYPES = {
  getTypeParser(oid: number): (value: string) => unknown {
    switch (oid) {
      case 17: // bytea, in hex: the batch function sets bytea_output for its transaction
        return (value) => Buffer.from(value.slice(2), 'hex');
      case 21: // int2
      case 23: // int4
      case 701: // float8: exact, the batch function sets extra_float_digits for its transaction
        return Number;
      default:
        return (value) => value;
    }
  },
};

/** Answers of the outcomes that are not typed: a read's snapshot, a meta, a binding, a number, a boolean or null. */
export type OpAnswer = SessionSnapshot | SessionMeta | SessionBinding | number | boolean | null;
