import type { SchemaNames } from './schema-names.js';

/**
 * The tables of the 'postgres' provider and the two functions that read and write MessagePack numbers for
 * `incr`. Every statement is idempotent (`IF NOT EXISTS`, `CREATE OR REPLACE`): the provider runs them on
 * first use, and `postgresSchemaSql()` prints them for managed migrations.
 *
 * Layout: one row per session, one row per key. A commit changes only the rows of the keys it names, so
 * two requests that change different keys both keep their change (per-key merge at the database), and
 * the session row is the lock that orders every write to one session.
 *
 * Times are in ms since the epoch of the app's clock (the provider's `now` option), as JavaScript numbers:
 * `double precision` holds them exactly, and deadlines are compared with the clock value each statement is
 * given, never with the database's `now()`. Ids and keys use the "C" collation: byte order, no locale rules
 * in the primary keys' comparisons.
 */
export function tablesSql(names: SchemaNames): string {
  const { sessions, values, expiryIndex, schema } = names;
  return `${schema ? `CREATE SCHEMA IF NOT EXISTS ${schema};\n\n` : ''}CREATE TABLE IF NOT EXISTS ${sessions} (
  sid                 text COLLATE "C" PRIMARY KEY,
  created_at          double precision NOT NULL,
  idle_timeout_ms     double precision NOT NULL,
  idle_expires_at     double precision NOT NULL,
  absolute_expires_at double precision NOT NULL,
  expires_at          double precision GENERATED ALWAYS AS (least(idle_expires_at, absolute_expires_at)) STORED,
  -- Keys held and bytes of keys (UTF-8) plus values, kept by every write to check the limits without a scan.
  value_count         integer NOT NULL,
  value_bytes         integer NOT NULL
);

-- Sweeping and counting read deadlines in order from this index, never the whole table.
CREATE INDEX IF NOT EXISTS ${expiryIndex} ON ${sessions} (expires_at);

CREATE TABLE IF NOT EXISTS ${values} (
  sid   text COLLATE "C" NOT NULL REFERENCES ${sessions} (sid) ON DELETE CASCADE ON UPDATE CASCADE,
  key   text COLLATE "C" NOT NULL,
  value bytea NOT NULL,
  PRIMARY KEY (sid, key)
);

-- The number a MessagePack value encodes, or NULL if it is not a plain number: the forms
-- src/providers/number-codec.ts reads (fixints, 8 to 32-bit integers, float32, float64). 64-bit integers
-- decode as BigInt in JavaScript, so they are not numbers to add to.
CREATE OR REPLACE FUNCTION ${names.fn('number_v1')}(v bytea) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  n integer := octet_length(v);
  tag integer;
  e integer;
  m bigint;
BEGIN
  IF n = 0 THEN RETURN NULL; END IF;
  tag := get_byte(v, 0);
  IF tag <= 127 THEN RETURN CASE WHEN n = 1 THEN tag END; END IF;
  IF tag >= 224 THEN RETURN CASE WHEN n = 1 THEN tag - 256 END; END IF;
  IF tag = 204 AND n = 2 THEN RETURN get_byte(v, 1); END IF;
  IF tag = 205 AND n = 3 THEN RETURN get_byte(v, 1) * 256 + get_byte(v, 2); END IF;
  IF tag IN (206, 210) AND n = 5 THEN
    m := get_byte(v, 1)::bigint * 16777216 + get_byte(v, 2) * 65536 + get_byte(v, 3) * 256 + get_byte(v, 4);
    RETURN CASE WHEN tag = 210 AND m >= 2147483648 THEN m - 4294967296 ELSE m END;
  END IF;
  IF tag = 208 AND n = 2 THEN RETURN get_byte(v, 1) - CASE WHEN get_byte(v, 1) >= 128 THEN 256 ELSE 0 END; END IF;
  IF tag = 209 AND n = 3 THEN
    m := get_byte(v, 1) * 256 + get_byte(v, 2);
    RETURN CASE WHEN m >= 32768 THEN m - 65536 ELSE m END;
  END IF;
  IF tag = 202 AND n = 5 THEN
    -- IEEE 754 single: sign, 8 exponent bits, 23 fraction bits. Scaling by powers of two is exact.
    e := (get_byte(v, 1) & 127) * 2 + (get_byte(v, 2) >> 7);
    m := (get_byte(v, 2) & 127) * 65536 + get_byte(v, 3) * 256 + get_byte(v, 4);
    RETURN CASE WHEN get_byte(v, 1) >= 128 THEN -1 ELSE 1 END * CASE
      WHEN e = 255 THEN CASE WHEN m = 0 THEN 'Infinity'::double precision ELSE 'NaN' END
      WHEN e = 0 THEN m * power(2::double precision, -149)
      ELSE (m + 8388608) * power(2::double precision, e - 150) END;
  END IF;
  IF tag = 203 AND n = 9 THEN
    -- IEEE 754 double: sign, 11 exponent bits, 52 fraction bits.
    e := (get_byte(v, 1) & 127) * 16 + (get_byte(v, 2) >> 4);
    m := (get_byte(v, 2) & 15)::bigint * 281474976710656 + get_byte(v, 3)::bigint * 1099511627776
      + get_byte(v, 4)::bigint * 4294967296 + get_byte(v, 5)::bigint * 16777216
      + get_byte(v, 6) * 65536 + get_byte(v, 7) * 256 + get_byte(v, 8);
    RETURN CASE WHEN get_byte(v, 1) >= 128 THEN -1 ELSE 1 END * CASE
      WHEN e = 2047 THEN CASE WHEN m = 0 THEN 'Infinity'::double precision ELSE 'NaN' END
      WHEN e = 0 THEN m * power(2::double precision, -1074)
      ELSE (m + 4503599627370496) * power(2::double precision, e - 1075) END;
  END IF;
  RETURN NULL;
END $$;

-- Encodes a number exactly as writeNumber in src/providers/number-codec.ts does: the smallest integer form
-- within 32 bits, else a float64. -0 stays a float64, as in JavaScript.
CREATE OR REPLACE FUNCTION ${names.fn('encode_number_v1')}(n double precision) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE
  WHEN n <> trunc(n) OR float8send(n) = '\\x8000000000000000'::bytea THEN '\\xcb'::bytea || float8send(n)
  WHEN n >= 0 AND n <= 127 THEN set_byte('\\x00'::bytea, 0, n::integer)
  WHEN n < 0 AND n >= -32 THEN set_byte('\\x00'::bytea, 0, (n + 256)::integer)
  WHEN n > 0 AND n <= 4294967295 THEN '\\xce'::bytea || substring(int8send(n::bigint) FROM 5)
  WHEN n < 0 AND n >= -2147483648 THEN '\\xd2'::bytea || int4send(n::integer)
  ELSE '\\xcb'::bytea || float8send(n)
END $$;

-- a + b as JavaScript adds: PostgreSQL raises an error where a finite sum overflows; JavaScript gives
-- the infinity of that sign. (The exception block costs a subtransaction: incr only calls this near the
-- edge of the double range.)
CREATE OR REPLACE FUNCTION ${names.fn('add_v1')}(a double precision, b double precision)
RETURNS double precision LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
  RETURN a + b;
EXCEPTION WHEN numeric_value_out_of_range THEN
  RETURN CASE WHEN a > 0 THEN 'Infinity'::double precision ELSE '-Infinity' END;
END $$;
`;
}
