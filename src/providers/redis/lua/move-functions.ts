/**
 * The Lua functions of a rename across slot groups on Redis Cluster, where no one script can reach both ids:
 * freeze, put, drop, unfreeze and fence. `cluster-rename.ts` runs them and says what the protocol
 * guarantees.
 */
export const MOVE_FUNCTIONS = `-- Rename across slot groups on Cluster, in three steps (see cluster-rename.ts): freeze the old session,
-- put a copy under the new id (the commit point, recorded in the move record), drop the old copy.

-- KEYS: old session, old index. ARGV: old sid, new sid, now, move deadline. Reply: the hash | 0 | nil.
local function freeze(keys, args)
  local m, state = live(keys[1], keys[2], args[1], tonumber(args[3]))
  if not m then return state == 'expired' and 0 or nil end
  m.move_to, m.move_until = args[2], tonumber(args[4])
  redis.call('HSET', keys[1], META, format_meta(m))
  redis.call('ZREM', keys[2], args[1])
  return redis.call('HGETALL', keys[1])
end

-- KEYS: new session, new index, move record. ARGV: new sid, now, created, idle timeout, absolute deadline,
-- bytes, move record deadline, then field/value pairs. Reply: meta.
local function put(keys, args)
  if redis.call('EXISTS', keys[3]) == 1 then fail('SSCANCELLED') end
  local now = tonumber(args[2])
  if taken(keys[1], keys[2], args[1], now) then fail('SSEXISTS') end
  local m = { created = tonumber(args[3]), idle_timeout = tonumber(args[4]), idle_at = 0,
    absolute_at = tonumber(args[5]), bytes = tonumber(args[6]) }
  hset_from(keys[1], args, 8)
  save(keys[1], keys[2], args[1], m, now, true)
  redis.call('SET', keys[3], 'committed', 'PXAT', args[7])
  return format_meta(m)
end

local function moving_to(key)
  local raw = redis.call('HGET', key, META)
  return raw and parse_meta(raw)
end

-- KEYS: old session, old index. ARGV: old sid, new sid. Removes the frozen copy. Reply: 1 | 0.
local function drop(keys, args)
  local m = moving_to(keys[1])
  if not m or m.move_to ~= args[2] then return 0 end
  remove(keys[1], keys[2], args[1])
  return 1
end

-- KEYS: old session, old index. ARGV: old sid, new sid. Makes the frozen session live again. Reply: 1 | 0.
local function unfreeze(keys, args)
  local m = moving_to(keys[1])
  if not m or m.move_to ~= args[2] then return 0 end
  m.move_to, m.move_until = nil, nil
  redis.call('HSET', keys[1], META, format_meta(m))
  redis.call('ZADD', keys[2], num(deadline(m)), args[1])
  return 1
end

-- KEYS: move record. ARGV: its deadline. Decides a move nobody finished: 'committed' if the copy was put,
-- else 'cancelled' (and a late put is refused). Reply: the decision.
local function fence(keys, args)
  local decided = redis.call('GET', keys[1])
  if decided then return decided end
  redis.call('SET', keys[1], 'cancelled', 'PXAT', args[1])
  return 'cancelled'
end
`;
