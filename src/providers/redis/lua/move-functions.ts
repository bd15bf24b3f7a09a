/**
 * The Lua functions of a rename across slot groups on Redis Cluster, where no one script can reach both ids:
 * freeze, put, drop, unfreeze and fence. `cluster-rename.ts` runs them and says what the protocol
 * guarantees.
 */
export const MOVE_FUNCTIONS = `
-- KEYS: old session. ARGV: new sid, now, move deadline. Reply: the hash | 0 expired | nil.
local function freeze(keys, args)
  local index, sid = parts(keys[1])
  local m, state = live(keys[1], index, sid, tonumber(args[2]))
  if not m then return state == 'expired' and 0 or nil end
  m.move_to, m.move_until = args[1], tonumber(args[3])
  redis.call('HSET', keys[1], META, format_meta(m))
  -- A bound session keeps its user index entry: a revokeUser that comes meanwhile finds and ends it.
  redis.call('ZREM', index, member(sid, m))
  return redis.call('HGETALL', keys[1])
end

-- Whether a bound session arriving here by a move was bound before a revocation of its user or handle that
-- this group saw (revoke_user leaves a tombstone in every group on a Cluster): it then arrives dead.
local function revoked(base, m)
  local all, one = unpack(redis.call('HMGET', base .. 'revoked:' .. m.user, '', m.handle))
  if one and tonumber(one) >= m.bound_at then return true end
  if not all then return false end
  local at, except = string.match(all, '^(%S+) ?(%S*)$')
  return tonumber(at) >= m.bound_at and except ~= m.handle
end

-- KEYS: new session, move record. ARGV: now, created, idle timeout, absolute deadline, bytes, move record
-- deadline, the meta's extras (binding, own timeouts), then field/value pairs. Reply: meta.
local function put(keys, args)
  if redis.call('EXISTS', keys[2]) == 1 then fail('SSCANCELLED') end
  local now = tonumber(args[1])
  local index, sid, base = parts(keys[1])
  local m = parse_meta(args[2] .. ' ' .. args[3] .. ' 0 ' .. args[4] .. ' ' .. args[5] .. args[7])
  if m.user and revoked(base, m) then fail('SSREVOKED') end
  if taken(keys[1], index, sid, now) then fail('SSEXISTS') end
  hset_from(keys[1], args, 8)
  if m.user then redis.call('HSET', base .. 'user:' .. m.user, m.handle, sid) end
  save(keys[1], index, sid, m, now, true)
  redis.call('SET', keys[2], 'committed', 'PXAT', args[6])
  return format_meta(m)
end

local function moving_to(key)
  local raw = redis.call('HGET', key, META)
  return raw and parse_meta(raw)
end

-- KEYS: old session. ARGV: new sid. Removes the frozen copy. Reply: 1 | 0.
local function drop(keys, args)
  local m = moving_to(keys[1])
  if not m or m.move_to ~= args[1] then return 0 end
  local index, sid = parts(keys[1])
  remove(keys[1], index, sid, m)
  return 1
end

-- KEYS: old session. ARGV: new sid. Makes the frozen session live again. Reply: 1 | 0.
local function unfreeze(keys, args)
  local m = moving_to(keys[1])
  if not m or m.move_to ~= args[1] then return 0 end
  local index, sid = parts(keys[1])
  m.move_to, m.move_until = nil, nil
  redis.call('HSET', keys[1], META, format_meta(m))
  redis.call('ZADD', index, num(deadline(m)), member(sid, m))
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
