import type { SchemaNames } from './schema-names.js';

/**
 * A session's event, as the SQL side reports it: the `detail` of an `Event` row of the batch function, the `code`
 * of the sweep's and of `revoke_v2`'s rows. See `events.ts` for the event each stands for.
 */
export const EventCode = {
  Created: 1,
  Destroyed: 2,
  Revoked: 3,
  ExpiredIdle: 4,
  ExpiredAbsolute: 5,
} as const;

/** The code of the expiry of the session row `row` (which timeout passed first), as an SQL expression. */
export function expiryCodeSql(row: string): string {
  return `CASE WHEN ${row}.absolute_expires_at <= ${row}.idle_expires_at THEN ${EventCode.ExpiredAbsolute} ELSE ${EventCode.ExpiredIdle} END`;
}

/**
 * Schema 2 (issue 13): a session's binding to a user and its own timeouts, as columns of the sessions row, and
 * a partial index of the bound rows by user. Why columns and not a table of bindings: every operation already
 * reads and locks the session row, so a read reports the binding, a rename carries it and a delete (destroy,
 * expiry, revocation) ends it in the same row, at no extra probe for anyone; a table beside it would cost every
 * read of an unbound session a lookup, and every delete a cascade. Unbound rows have NULLs there and are absent
 * from the index, which only bound rows enter.
 *
 * A table of schema 1 gets the columns in place: nullable columns without a default change the catalog only
 * (no rewrite; the rows already there read NULL). A fresh table goes the same way, so every run tests the
 * migration. The catalog is checked first so that a process starting on an up-to-date table does not take
 * ALTER TABLE's ACCESS EXCLUSIVE lock (which would queue every request behind the longest transaction open).
 */
export function userColumnsSql(names: SchemaNames): string {
  const { sessions, userIndex } = names;
  return `DO $$
BEGIN
  IF (SELECT count(*) FROM pg_attribute WHERE attrelid = '${sessions}'::regclass AND NOT attisdropped
        AND attname IN ('user_id', 'handle', 'label', 'retimed')) < 4 THEN
    ALTER TABLE ${sessions}
      -- The user the session is bound to, the random handle that names it to the user's other devices
      -- (never its id), and the app's label of the device.
      ADD COLUMN IF NOT EXISTS user_id text COLLATE "C",
      ADD COLUMN IF NOT EXISTS handle  text COLLATE "C",
      ADD COLUMN IF NOT EXISTS label   text,
      -- True once setTimeouts gave the session timeouts of its own (idle_timeout_ms holds the idle one).
      ADD COLUMN IF NOT EXISTS retimed boolean;
  END IF;
END $$;

-- sessionsOf and the revocations find a user's sessions here, never by a scan; unbound sessions are not in it.
CREATE INDEX IF NOT EXISTS ${userIndex} ON ${sessions} (user_id) WHERE user_id IS NOT NULL;
`;
}

/**
 * The functions of schema 2's user operations. `bind_v2` and `set_timeouts_v2` are operations of a batch (one
 * session, its row locked first, as every operation: see `operations-sql.ts`, whose OUT columns they share).
 * `sessions_of_v2` and `revoke_v2` run alone, each its own statement: a revocation locks a user's rows in id
 * order (the order batches take them in, so they cannot deadlock with it), and must not hold a batch's locks
 * while it does. A revocation deletes every matching row its statement finds, live or expired, and reports
 * each (`code`: revoked, or which timeout had passed): every bound session ends with one event.
 */
export function userFunctionsSql(names: SchemaNames, out: string, lockLive: string): string {
  const { sessions } = names;
  const times = 'created_at, idle_expires_at, absolute_expires_at';
  const timesInto = 'INTO created_at, idle_expires_at, absolute_expires_at';
  return `CREATE OR REPLACE FUNCTION ${names.fn('bind_v2')}(p_sid text, now_ms double precision, p_user text,
  p_handle text, p_label text, ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE s record;
BEGIN
  ${lockLive}
  IF s.user_id = p_user THEN
    -- Bound to this user already: the handle stays; a label given replaces the old one.
    handle := s.handle;
    label := coalesce(p_label, s.label);
    IF label IS DISTINCT FROM s.label THEN UPDATE ${sessions} SET label = p_label WHERE sid = p_sid; END IF;
  ELSE
    -- A new binding (a rebinding to another user moves the session: a new handle, no end event for the old).
    UPDATE ${sessions} SET user_id = p_user, handle = p_handle, label = p_label WHERE sid = p_sid;
    handle := p_handle;
    label := p_label;
    event_users := ARRAY[p_user]; event_handles := ARRAY[p_handle]; event_codes := ARRAY[${EventCode.Created}::smallint];
  END IF;
  user_id := p_user;
  created_at := s.created_at; idle_expires_at := s.idle_expires_at; absolute_expires_at := s.absolute_expires_at;
  status := 0;
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('set_timeouts_v2')}(p_sid text, now_ms double precision,
  idle_ms double precision, absolute_ms double precision, ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE s record;
BEGIN
  ${lockLive}
  UPDATE ${sessions} SET idle_timeout_ms = idle_ms, idle_expires_at = now_ms + idle_ms,
      absolute_expires_at = s.created_at + absolute_ms, retimed = true
    WHERE sid = p_sid RETURNING ${times} ${timesInto};
  status := 0;
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('sessions_of_v2')}(p_user text, now_ms double precision)
RETURNS TABLE (handle text, created_at double precision, last_seen_at double precision,
  expires_at double precision, label text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('extra_float_digits', '1', true);
  RETURN QUERY SELECT x.handle, x.created_at, x.idle_expires_at - x.idle_timeout_ms, x.expires_at, x.label
    FROM ${sessions} x WHERE x.user_id = p_user AND x.expires_at > now_ms ORDER BY x.created_at, x.handle;
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('revoke_v2')}(p_user text, p_handle text, p_except text,
  now_ms double precision, lock_timeout_ms integer)
RETURNS TABLE (handle text, code smallint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
  RETURN QUERY WITH doomed AS (
    SELECT x.sid FROM ${sessions} x
      WHERE x.user_id = p_user AND (p_handle IS NULL OR x.handle = p_handle) AND x.handle IS DISTINCT FROM p_except
      ORDER BY x.sid FOR UPDATE
  )
  DELETE FROM ${sessions} x USING doomed WHERE x.sid = doomed.sid
    RETURNING x.handle, (CASE WHEN x.expires_at > now_ms THEN ${EventCode.Revoked} ELSE ${expiryCodeSql('x')} END)::smallint;
END $$;
`;
}
