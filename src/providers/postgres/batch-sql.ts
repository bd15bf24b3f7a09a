import type { SchemaNames } from './schema-names.js';
import { expiryCodeSql } from './user-sql.js';

/** Operation kinds of `<table>_apply_v2`, as the provider sends them. */
export const OpKind = {
  Read: 1,
  Init: 2,
  Commit: 3,
  Incr: 4,
  Rename: 5,
  Destroy: 6,
  Bind: 7,
  SetTimeouts: 8,
} as const;
export type OpKind = (typeof OpKind)[keyof typeof OpKind];

/**
 * `status` of a result row of `<table>_apply_v2` (see `operations-sql.ts`); `Value` rows carry read's values,
 * `Event` rows an event of a bound session (`user_id`, `handle`, and the `EventCode` in `detail`).
 */
export const OpStatus = {
  Done: 0,
  Missing: 1,
  Taken: 2,
  NotANumber: 3,
  TooManyKeys: 4,
  TooManyBytes: 5,
  IncrNoKeyRoom: 6,
  IncrNoByteRoom: 7,
  Value: 10,
  Event: 11,
} as const;

/**
 * `<table>_apply_v2`: runs a batch of operations, in the order given, in one statement, hence one round trip
 * and one transaction (one WAL flush for every write of the batch: fdatasync costs ~0.8 ms on this project's
 * machines, so a write per transaction would cap one connection near 1,200 writes/s).
 *
 * Operations are columns of arrays, one element per operation: `sids` (and `args`: incr's key, rename's new
 * id, bind's user id), `args2` and `args3` (bind's new handle and label: empty arrays when no operation of the
 * batch binds, as an element past the end reads NULL), `nums` (incr's amount, init's and setTimeouts' idle
 * timeout), `nums2` (their absolute timeout). The keys and values an operation sets, and the keys it deletes,
 * are consecutive runs of `set_keys`/`set_vals` and `del_keys`, `set_counts[i]` and `del_counts[i]` long. One
 * row comes back per operation, in order, then one `Value` row per key a read found and one `Event` row per
 * event of a bound session the operation began or ended.
 *
 * It also fixes, for its own transaction only: `lock_timeout` (a batch waits that long at most for a row
 * another transaction holds), and the output formats the provider parses (hex bytea, exact doubles), so a
 * pool whose connections set them otherwise still reads correctly. It refuses to run under REPEATABLE READ
 * or SERIALIZABLE, where the functions would see a stale snapshot after taking a lock, and in a database
 * that is not UTF8, where `octet_length(key)` would not count what `Buffer.byteLength(key)` does.
 */
export function batchSql(names: SchemaNames): string {
  const call = (suffix: string, args: string) => `SELECT * INTO r FROM ${names.fn(suffix)}(${args});`;
  return `CREATE OR REPLACE FUNCTION ${names.fn('apply_v2')}(now_ms double precision, kinds smallint[],
  sids text[], args text[], args2 text[], args3 text[], nums double precision[], nums2 double precision[],
  set_counts integer[], set_keys text[], set_vals bytea[], del_counts integer[], del_keys text[],
  max_keys integer, max_bytes integer, max_value_bytes integer, lock_timeout_ms integer)
RETURNS TABLE (op integer, status smallint, created_at double precision, idle_expires_at double precision,
  absolute_expires_at double precision, detail double precision, expired smallint, key text, value bytea,
  user_id text, handle text, label text)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  ks text[];
  vs bytea[];
  ds text[];
  sp integer := 0;
  dp integer := 0;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'shard-session needs READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'feature_not_supported';
  END IF;
  -- Limits count keys in UTF-8 bytes, as octet_length does in a UTF8 database only.
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'shard-session needs a UTF8 database, not %', current_setting('server_encoding')
      USING ERRCODE = 'feature_not_supported';
  END IF;
  PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true),
    set_config('bytea_output', 'hex', true), set_config('extra_float_digits', '1', true);
  FOR i IN 1 .. coalesce(cardinality(kinds), 0) LOOP
    ks := set_keys[sp + 1 : sp + set_counts[i]];
    vs := set_vals[sp + 1 : sp + set_counts[i]];
    ds := del_keys[dp + 1 : dp + del_counts[i]];
    sp := sp + set_counts[i];
    dp := dp + del_counts[i];
    CASE kinds[i]
      WHEN ${OpKind.Read} THEN ${call('read_v2', 'sids[i], now_ms')}
      WHEN ${OpKind.Init} THEN ${call('init_v2', 'sids[i], now_ms, nums[i], nums2[i], ks, vs')}
      WHEN ${OpKind.Commit} THEN ${call('commit_v2', 'sids[i], now_ms, ks, vs, ds, max_keys, max_bytes')}
      WHEN ${OpKind.Incr} THEN
        ${call('incr_v2', 'sids[i], now_ms, args[i], nums[i], max_keys, max_bytes, max_value_bytes')}
      WHEN ${OpKind.Rename} THEN ${call('rename_v2', 'sids[i], now_ms, args[i]')}
      WHEN ${OpKind.Destroy} THEN ${call('destroy_v2', 'sids[i], now_ms')}
      WHEN ${OpKind.Bind} THEN ${call('bind_v2', 'sids[i], now_ms, args[i], args2[i], args3[i]')}
      WHEN ${OpKind.SetTimeouts} THEN ${call('set_timeouts_v2', 'sids[i], now_ms, nums[i], nums2[i]')}
    END CASE;
    op := i; status := r.status; created_at := r.created_at; idle_expires_at := r.idle_expires_at;
    absolute_expires_at := r.absolute_expires_at; detail := r.detail; expired := r.expired;
    key := NULL; value := NULL; user_id := r.user_id; handle := r.handle; label := r.label;
    RETURN NEXT;
    IF r.keys IS NOT NULL THEN
      RETURN QUERY SELECT i, ${OpStatus.Value}::smallint, NULL::double precision, NULL::double precision,
        NULL::double precision, NULL::double precision, 0::smallint, u.k, u.v, NULL::text, NULL::text, NULL::text
        FROM unnest(r.keys, r.vals) AS u(k, v);
    END IF;
    IF r.event_codes IS NOT NULL THEN
      RETURN QUERY SELECT i, ${OpStatus.Event}::smallint, NULL::double precision, NULL::double precision,
        NULL::double precision, u.c::double precision, 0::smallint, NULL::text, NULL::bytea, u.u, u.h, NULL::text
        FROM unnest(r.event_users, r.event_handles, r.event_codes) AS u(u, h, c);
    END IF;
  END LOOP;
END $$;
`;
}

/**
 * Removes up to `$2` sessions expired at `$1`, soonest deadline first, from the deadline index. Rows another
 * transaction holds are skipped (`SKIP LOCKED`), so the GC never waits for a request and two processes'
 * GCs share the work instead of queueing on each other. Their values go with them (ON DELETE CASCADE).
 * Answers one row with `removed`, the count, then one row per bound session removed (its expiry event):
 * the events of a whole statement in its one answer, and nothing more than the count for unbound ones.
 */
export function sweepSql(names: SchemaNames): string {
  return `WITH doomed AS (
  SELECT sid FROM ${names.sessions} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${names.sessions} s USING doomed WHERE s.sid = doomed.sid
    RETURNING s.user_id, s.handle, ${expiryCodeSql('s')} AS code
)
SELECT count(*)::integer AS removed, NULL::text AS user_id, NULL::text AS handle, NULL::integer AS code FROM gone
UNION ALL
SELECT NULL, user_id, handle, code FROM gone WHERE user_id IS NOT NULL`;
}

/** Live sessions at `$1`: an index-only range scan of the deadline index. */
export function countLiveSql(names: SchemaNames): string {
  return `SELECT count(*)::float8 AS n FROM ${names.sessions} WHERE expires_at > $1`;
}

/** Every row, expired ones not yet swept included (what `stats().sessions` reports). */
export function countRowsSql(names: SchemaNames): string {
  return `SELECT count(*)::float8 AS n FROM ${names.sessions}`;
}
