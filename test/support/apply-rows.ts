/**
 * A result row of the 'postgres' provider's `<table>_apply_v2`, as the provider's type parsers deliver it: an
 * unbound session created at 1, idle deadline 50, absolute 40, with `extra` columns on top. For the batch
 * codec's tests, which answer a batch without a server.
 */
export const applyRow = (op: number, status: number, extra: Record<string, unknown> = {}) => ({
  op,
  status,
  created_at: 1,
  idle_expires_at: 50,
  absolute_expires_at: 40,
  detail: null,
  expired: 0,
  key: null,
  value: null,
  // Schema 2's columns: an unbound session's row has them NULL.
  user_id: null,
  handle: null,
  label: null,
  ...extra,
});

/** The meta every operation answers from an {@link applyRow}. */
export const APPLY_META = { createdAt: 1, idleExpiresAt: 50, absoluteExpiresAt: 40, expiresAt: 40 };
