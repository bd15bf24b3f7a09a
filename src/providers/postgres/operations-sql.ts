import type { SchemaNames } from './schema-names.js';
import { EventCode, expiryCodeSql, userFunctionsSql } from './user-sql.js';

/**
 * One PL/pgSQL function per operation of the provider contract, and `<table>_apply_v2`, which runs a batch
 * of them in one statement. They are PostgreSQL's counterpart of the Redis provider's scripts: each locks
 * the session row first (`FOR UPDATE`), and under READ COMMITTED every later statement of the function
 * takes a fresh snapshot, so it sees the latest committed keys of that session, checks the limits against
 * them, and only then writes. A refused operation writes nothing; a failed statement rolls back whole.
 *
 * Every function takes the app's clock (`now_ms`) and compares deadlines with it: an expired row is never
 * returned and never written to. An operation that meets one deletes it (counted in `expired`), as the
 * in-memory providers do. Each returns the same columns, so the batch can dispatch them alike:
 *   status: 0 done · 1 no such live session · 2 the id is taken · 3 not a number · 4 too many keys ·
 *           5 too many bytes · 6 incr: no room for a key · 7 incr: no room for the bytes
 *   created_at, idle_expires_at, absolute_expires_at: the session's times after the operation
 *   detail: incr's new number; the key count or byte size a refused commit would have reached; read's own
 *           idle timeout (set by setTimeouts; NULL when the session has none)
 *   expired: rows this operation removed because they had expired
 *   keys, vals: read's values
 *   user_id, handle, label: the session's binding (read, bind), NULL when unbound
 *   event_users, event_handles, event_codes: the events of bound sessions this operation began or ended
 *           (`EventCode`), NULL when none (always, for unbound sessions)
 *
 * Schema 2 (issue 13) replaced the `_v1` functions by these `_v2`: same work, plus the binding and the events.
 * A database upgraded in place keeps the `_v1` ones, so processes of the previous release go on working
 * against it during a rolling deploy (their deletes of bound sessions report no event).
 */
export function operationsSql(names: SchemaNames): string {
  const { sessions, values } = names;
  const out = `OUT status smallint, OUT created_at double precision, OUT idle_expires_at double precision,
  OUT absolute_expires_at double precision, OUT detail double precision, OUT expired smallint,
  OUT keys text[], OUT vals bytea[], OUT user_id text, OUT handle text, OUT label text,
  OUT event_users text[], OUT event_handles text[], OUT event_codes smallint[]`;
  // Which session columns an operation reports (the OUT names equal the column names).
  const times = 'created_at, idle_expires_at, absolute_expires_at';
  const timesInto = 'INTO created_at, idle_expires_at, absolute_expires_at';
  // Reports the end of the session whose row is in record `row`, if it is bound (`code`: an SQL expression).
  const ended = (row: string, code: string) => `IF ${row}.user_id IS NOT NULL THEN
      event_users := event_users || ${row}.user_id; event_handles := event_handles || ${row}.handle;
      event_codes := event_codes || (${code})::smallint;
    END IF;`;
  const endedExpired = (row: string) => ended(row, expiryCodeSql(row));
  // The first statement of every write: lock the row, and treat an expired one as gone (and remove it).
  const lockLive = `expired := 0;
  SELECT * INTO s FROM ${sessions} WHERE sid = p_sid FOR UPDATE;
  IF NOT FOUND THEN status := 1; RETURN; END IF;
  IF s.expires_at <= now_ms THEN
    DELETE FROM ${sessions} WHERE sid = p_sid;
    ${endedExpired('s')}
    expired := 1; status := 1; RETURN;
  END IF;`;
  return `CREATE OR REPLACE FUNCTION ${names.fn('read_v2')}(p_sid text, now_ms double precision, ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  s record;
  g record;
BEGIN
  expired := 0;
  -- One statement (one snapshot): the times, the binding and the values of the same committed state.
  SELECT x.created_at, x.idle_expires_at, x.absolute_expires_at, x.expires_at, x.idle_timeout_ms, x.retimed,
         x.user_id, x.handle, x.label,
         array_agg(v.key) FILTER (WHERE v.key IS NOT NULL) AS keys,
         array_agg(v.value) FILTER (WHERE v.key IS NOT NULL) AS vals
    INTO s FROM ${sessions} x LEFT JOIN ${values} v ON v.sid = x.sid
    WHERE x.sid = p_sid GROUP BY x.sid;
  IF NOT FOUND THEN status := 1; RETURN; END IF;
  IF s.expires_at <= now_ms THEN
    -- A read never waits for a lock: if a writer holds the row, the GC removes it later.
    DELETE FROM ${sessions} WHERE sid IN
      (SELECT sid FROM ${sessions} WHERE sid = p_sid AND expires_at <= now_ms FOR UPDATE SKIP LOCKED)
      RETURNING * INTO g;
    IF FOUND THEN
      expired := 1;
      ${endedExpired('g')}
    END IF;
    status := 1; RETURN;
  END IF;
  status := 0;
  created_at := s.created_at; idle_expires_at := s.idle_expires_at; absolute_expires_at := s.absolute_expires_at;
  keys := coalesce(s.keys, '{}'); vals := coalesce(s.vals, '{}');
  detail := CASE WHEN s.retimed THEN s.idle_timeout_ms END;
  user_id := s.user_id; handle := s.handle; label := s.label;
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('init_v2')}(p_sid text, now_ms double precision,
  idle_ms double precision, absolute_ms double precision, set_keys text[], set_vals bytea[], ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE g record;
BEGIN
  expired := 0;
  -- Limits were checked by the caller: a new session's size depends on its initial values only.
  FOR attempt IN 1..3 LOOP
    INSERT INTO ${sessions} (sid, ${times}, idle_timeout_ms, value_count, value_bytes)
      SELECT p_sid, now_ms, now_ms + idle_ms, now_ms + absolute_ms, idle_ms, cardinality(set_keys),
             coalesce(sum(octet_length(k) + octet_length(v)), 0)
        FROM unnest(set_keys, set_vals) AS u(k, v)
      ON CONFLICT (sid) DO NOTHING
      RETURNING ${times} ${timesInto};
    IF FOUND THEN
      INSERT INTO ${values} (sid, key, value) SELECT p_sid, k, v FROM unnest(set_keys, set_vals) AS u(k, v);
      status := 0; RETURN;
    END IF;
    -- The id is taken: by a live session (refused), or by an expired one (removed, then try again).
    SELECT * INTO g FROM ${sessions} WHERE sid = p_sid FOR UPDATE;
    IF FOUND AND g.expires_at > now_ms THEN status := 2; RETURN; END IF;
    IF FOUND THEN
      DELETE FROM ${sessions} WHERE sid = p_sid;
      expired := expired + 1;
      ${endedExpired('g')}
    END IF;
  END LOOP;
  status := 2; -- another transaction keeps creating this very id: refuse rather than loop
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('commit_v2')}(p_sid text, now_ms double precision,
  set_keys text[], set_vals bytea[], del_keys text[], max_keys integer, max_bytes integer, ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  s record;
  old_count integer;
  old_bytes bigint;
  new_count bigint;
  new_bytes bigint;
BEGIN
  ${lockLive}
  new_count := s.value_count;
  new_bytes := s.value_bytes;
  IF cardinality(set_keys) + cardinality(del_keys) > 0 THEN
    -- Sets and deletes name distinct keys (the caller resolved the delta's order).
    SELECT count(*), coalesce(sum(octet_length(key) + octet_length(value)), 0) INTO old_count, old_bytes
      FROM ${values} WHERE sid = p_sid AND key = ANY (set_keys || del_keys);
    new_count := s.value_count - old_count + cardinality(set_keys);
    new_bytes := s.value_bytes - old_bytes
      + (SELECT coalesce(sum(octet_length(k) + octet_length(v)), 0) FROM unnest(set_keys, set_vals) AS u(k, v));
    IF new_count > max_keys THEN status := 4; detail := new_count; RETURN; END IF;
    IF new_bytes > max_bytes THEN status := 5; detail := new_bytes; RETURN; END IF;
    DELETE FROM ${values} WHERE sid = p_sid AND key = ANY (del_keys);
    INSERT INTO ${values} (sid, key, value) SELECT p_sid, k, v FROM unnest(set_keys, set_vals) AS u(k, v)
      ON CONFLICT (sid, key) DO UPDATE SET value = excluded.value;
  END IF;
  UPDATE ${sessions} SET idle_expires_at = now_ms + s.idle_timeout_ms, value_count = new_count,
      value_bytes = new_bytes
    WHERE sid = p_sid RETURNING ${times} ${timesInto};
  status := 0;
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('incr_v2')}(p_sid text, now_ms double precision, p_key text,
  p_by double precision, max_keys integer, max_bytes integer, max_value_bytes integer, ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  s record;
  stored bytea;
  had boolean;
  before double precision := 0;
  after double precision;
  encoded bytea;
  new_bytes bigint;
BEGIN
  ${lockLive}
  SELECT value INTO stored FROM ${values} WHERE sid = p_sid AND key = p_key;
  had := FOUND;
  IF had THEN
    before := ${names.fn('number_v1')}(stored);
    IF before IS NULL THEN status := 3; RETURN; END IF;
  END IF;
  IF abs(before) < 1e300 AND abs(p_by) < 1e300 THEN after := before + p_by;
  ELSE after := ${names.fn('add_v1')}(before, p_by);
  END IF;
  encoded := ${names.fn('encode_number_v1')}(after);
  IF NOT had AND s.value_count >= max_keys THEN status := 6; detail := s.value_count; RETURN; END IF;
  new_bytes := s.value_bytes + octet_length(encoded)
    - CASE WHEN had THEN octet_length(stored) ELSE -octet_length(p_key) END;
  IF new_bytes > max_bytes OR octet_length(encoded) > max_value_bytes THEN status := 7; RETURN; END IF;
  INSERT INTO ${values} (sid, key, value) VALUES (p_sid, p_key, encoded)
    ON CONFLICT (sid, key) DO UPDATE SET value = excluded.value;
  UPDATE ${sessions} SET idle_expires_at = now_ms + s.idle_timeout_ms,
      value_count = s.value_count + CASE WHEN had THEN 0 ELSE 1 END, value_bytes = new_bytes
    WHERE sid = p_sid RETURNING ${times} ${timesInto};
  detail := after;
  status := 0;
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('rename_v2')}(p_sid text, now_ms double precision, p_new text, ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  s record;
  g record;
BEGIN
  ${lockLive}
  IF p_new <> p_sid THEN
    SELECT * INTO g FROM ${sessions} WHERE sid = p_new FOR UPDATE;
    IF FOUND AND g.expires_at > now_ms THEN status := 2; RETURN; END IF;
    IF FOUND THEN
      DELETE FROM ${sessions} WHERE sid = p_new;
      expired := expired + 1;
      ${endedExpired('g')}
    END IF;
  END IF;
  BEGIN
    -- The values follow through the foreign key (ON UPDATE CASCADE), in this same statement; the binding is
    -- in the row.
    UPDATE ${sessions} SET sid = p_new, idle_expires_at = now_ms + s.idle_timeout_ms
      WHERE sid = p_sid RETURNING ${times} ${timesInto};
  EXCEPTION WHEN unique_violation THEN
    status := 2; RETURN; -- another transaction created p_new meanwhile
  END;
  status := 0;
END $$;

CREATE OR REPLACE FUNCTION ${names.fn('destroy_v2')}(p_sid text, now_ms double precision, ${out})
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE g record;
BEGIN
  expired := 0;
  DELETE FROM ${sessions} WHERE sid = p_sid RETURNING * INTO g;
  IF NOT FOUND THEN status := 1; RETURN; END IF;
  IF g.expires_at <= now_ms THEN
    ${endedExpired('g')}
    expired := 1; status := 1; RETURN;
  END IF;
  ${ended('g', String(EventCode.Destroyed))}
  status := 0;
END $$;

${userFunctionsSql(names, out, lockLive)}`;
}
