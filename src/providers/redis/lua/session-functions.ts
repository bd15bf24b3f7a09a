/**
 * The Lua functions behind the provider's operations: read, init, commit, incr, rename (one slot, or a
 * standalone server), destroy and gc. Each is one atomic step on one slot. A session function takes the
 * session's key alone (KEYS[1]) and derives its group's index and its id from it (see `parts`).
 */
export const SESSION_FUNCTIONS = `
-- KEYS: session. ARGV: now. Reply: the hash (flat) | 0 expired | nil.
local function read(keys, args)
  local index, sid = parts(keys[1])
  local m, state = live(keys[1], index, sid, tonumber(args[1]))
  if not m then return state == 'expired' and 0 or nil end
  return redis.call('HGETALL', keys[1])
end

-- KEYS: session. ARGV: now, idle timeout, absolute timeout, max sessions in the group (0: no limit),
-- bytes, then field/value pairs. Reply: { meta, expired, evicted }.
local function init(keys, args)
  local key, now = keys[1], tonumber(args[1])
  local index, sid = parts(key)
  local expired, evicted = 0, 0
  local m, state = live(key, index, sid, now)
  if m or state == 'moving' then fail('SSEXISTS') end
  if state == 'expired' then expired = 1 end
  local max_sessions = tonumber(args[4])
  if max_sessions > 0 then
    local base = string.sub(index, 1, -7)
    while redis.call('ZCARD', index) >= max_sessions do
      local soonest = redis.call('ZPOPMIN', index)
      local entry = soonest[1]
      if #entry == 43 then redis.call('DEL', base .. entry) else end_entry(base, entry, now) end
      if tonumber(soonest[2]) <= now then expired = expired + 1 else evicted = evicted + 1 end
    end
  end
  local idle, absolute = tonumber(args[2]), tonumber(args[3])
  m = { created = now, idle_timeout = idle, idle_at = now + idle, absolute_at = now + absolute,
    bytes = tonumber(args[5]) }
  hset_from(key, args, 6)
  save(key, index, sid, m, now, false)
  return { format_meta(m), expired, evicted }
end

-- KEYS: session. ARGV: now, max keys, max session bytes, number of deletes, the deleted fields, then
-- field/value pairs. Deletes apply before sets; all or nothing. Reply: meta | 0 expired | nil.
local function commit(keys, args)
  local key, now = keys[1], tonumber(args[1])
  local index, sid = parts(key)
  local m, state = live(key, index, sid, now)
  if not m then return state == 'expired' and 0 or nil end
  local max_keys, max_bytes, deletes = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  local changed = {}
  for i = 5, 4 + deletes do changed[args[i]] = false end
  for i = 5 + deletes, #args, 2 do changed[args[i]] = args[i + 1] end
  local count, bytes = redis.call('HLEN', key) - 1, m.bytes
  local sets, dels = {}, {}
  for field, value in pairs(changed) do
    if redis.call('HEXISTS', key, field) == 1 then
      count = count - 1
      bytes = bytes - #field - redis.call('HSTRLEN', key, field)
      if not value then dels[#dels + 1] = field end
    end
    if value then
      count = count + 1
      bytes = bytes + #field + #value
      sets[#sets + 1] = field
      sets[#sets + 1] = value
    end
  end
  if count > max_keys then
    fail('SSTOOLARGE the session would hold ' .. count .. ' keys, over the limit of ' .. max_keys)
  end
  if bytes > max_bytes then
    fail('SSTOOLARGE the session would be ' .. bytes .. ' bytes, over the limit of ' .. max_bytes)
  end
  call_chunked('HDEL', key, dels)
  call_chunked('HSET', key, sets)
  m.bytes = bytes
  save(key, index, sid, m, now, true)
  return format_meta(m)
end

-- KEYS: session. ARGV: now, field, by, max keys, max session bytes, max value bytes.
-- Reply: the new number (%.17g) | 0 expired | nil.
local function incr(keys, args)
  local key, now = keys[1], tonumber(args[1])
  local index, sid = parts(key)
  local m, state = live(key, index, sid, now)
  if not m then return state == 'expired' and 0 or nil end
  local field = args[2]
  local current = redis.call('HGET', key, field)
  local before = 0
  if current then
    before = read_number(current)
    if before == nil then fail('SSNAN incr: the value under "' .. field .. '" is not a number') end
  end
  local after = before + tonumber(args[3])
  local encoded = write_number(after)
  local bytes
  if current then
    bytes = m.bytes + #encoded - #current
  else
    local count = redis.call('HLEN', key) - 1
    if count >= tonumber(args[4]) then
      fail('SSTOOLARGE incr: the session already holds ' .. count .. ' keys, the limit')
    end
    bytes = m.bytes + #field + #encoded
  end
  if bytes > tonumber(args[5]) or #encoded > tonumber(args[6]) then
    fail('SSTOOLARGE incr: the session would be over its size limit')
  end
  redis.call('HSET', key, field, encoded)
  m.bytes = bytes
  save(key, index, sid, m, now, true)
  return num(after)
end

-- KEYS: old session, new session (one slot, or a standalone server). ARGV: now.
-- Reply: meta | 0 expired | nil.
local function rename(keys, args)
  local now = tonumber(args[1])
  local old_index, old_sid, old_base = parts(keys[1])
  local new_index, new_sid, new_base = parts(keys[2])
  local m, state = live(keys[1], old_index, old_sid, now)
  if not m then return state == 'expired' and 0 or nil end
  if keys[1] ~= keys[2] then
    if taken(keys[2], new_index, new_sid, now) then fail('SSEXISTS') end
    redis.call('RENAME', keys[1], keys[2])
    redis.call('ZREM', old_index, member(old_sid, m))
    if m.user then
      -- The binding and its handle move with the session.
      unindex(old_base, m.user, m.handle, old_sid)
      redis.call('HSET', new_base .. 'user:' .. m.user, m.handle, new_sid)
    end
  end
  save(keys[2], new_index, new_sid, m, now, true)
  return format_meta(m)
end

-- KEYS: session. ARGV: now. Reply: 1 destroyed | 0 none | -1 it had expired (removed now).
local function destroy(keys, args)
  local index, sid = parts(keys[1])
  local m, state = live(keys[1], index, sid, tonumber(args[1]))
  if not m then return state == 'expired' and -1 or 0 end
  remove(keys[1], index, sid, m, 'destroyed', 'destroy')
  return 1
end

-- KEYS: a group's index. ARGV: now, limit. Removes up to limit sessions whose deadline is <= now (a bound one
-- with its user index entry and an 'expired' event). Reply: how many.
local function gc(keys, args)
  local index, now = keys[1], tonumber(args[1])
  local base = string.sub(index, 1, -7)
  local due = redis.call('ZRANGE', index, '-inf', args[1], 'BYSCORE', 'LIMIT', 0, tonumber(args[2]))
  for i = 1, #due do
    local entry = due[i]
    -- An unbound session's entry is its id (43 characters): removed as it always was.
    if #entry == 43 then redis.call('DEL', base .. entry) else end_entry(base, entry, now) end
  end
  call_chunked('ZREM', index, due)
  return #due
end
`;
