/**
 * The Lua functions of issue 13 (a user's sessions, per-session timeouts): bind, retime, sessions_of and
 * revoke. A binding lives in the session's meta (` u=`), and in a user index per slot group,
 * `<prefix>{<tag>}:user:<user id>` (a hash: handle → session id), in the slot of the sessions it lists, so
 * every change to a binding is atomic with its session, on a Cluster too. Listing and revoking visit every
 * group's index of the user: one call with the 64 index keys on one server, one call per group on a Cluster.
 */
export const USER_FUNCTIONS = `
-- KEYS: session. ARGV: now, user id, a fresh handle, '1' if a label follows ('0' if not), label.
-- Reply: { handle, label | false } | 0 expired | nil.
local function bind(keys, args)
  local key, now = keys[1], tonumber(args[1])
  local index, sid, base = parts(key)
  local m, state = live(key, index, sid, now)
  if not m then return state == 'expired' and 0 or nil end
  local user, label = args[2], nil
  if args[4] == '1' then label = args[5] end
  if m.user == user then
    -- Bound again to the same user: the handle stays; only a new label is written.
    if label and label ~= m.label then
      m.label = label
      redis.call('HSET', key, META, format_meta(m))
    end
    return { m.handle, m.label or false }
  end
  redis.call('ZREM', index, member(sid, m))
  if m.user then unindex(base, m.user, m.handle, sid) end
  m.user, m.handle, m.bound_at, m.label = user, args[3], now, label
  redis.call('HSET', base .. 'user:' .. user, m.handle, sid)
  save(key, index, sid, m, now, false)
  event('created', 'login', m.handle, user)
  return { m.handle, m.label or false }
end

-- KEYS: session. ARGV: now, idle timeout, absolute timeout. The idle deadline slides from now, the absolute one
-- counts from creation. Reply: meta | 0 expired | nil.
local function retime(keys, args)
  local key, now = keys[1], tonumber(args[1])
  local index, sid = parts(key)
  local m, state = live(key, index, sid, now)
  if not m then return state == 'expired' and 0 or nil end
  m.idle_timeout, m.absolute_at, m.retimed = tonumber(args[2]), m.created + tonumber(args[3]), true
  save(key, index, sid, m, now, true)
  return format_meta(m)
end

-- The session an index entry names, if it is still bound to (user, handle); a stale entry (its session gone,
-- or bound elsewhere) is dropped. Reply: key, meta | nil.
local function indexed(base, users, user, handle, sid)
  local key = base .. sid
  local raw = redis.call('HGET', key, META)
  local m = raw and parse_meta(raw)
  if m and m.user == user and m.handle == handle then return key, m end
  redis.call('HDEL', users, handle)
  return key, nil
end

-- KEYS: slot groups' indexes. ARGV: now, user id. Reply: flat { handle, createdAt, lastSeenAt, expiresAt,
-- label | false, ... } of the user's live sessions. One expired meanwhile is removed, with its event.
local function sessions_of(keys, args)
  local now, user = tonumber(args[1]), args[2]
  local out = {}
  for k = 1, #keys do
    local index = keys[k]
    local base = string.sub(index, 1, -7)
    local users = base .. 'user:' .. user
    local entries = redis.call('HGETALL', users)
    for i = 1, #entries, 2 do
      local handle, sid = entries[i], entries[i + 1]
      local key, m = indexed(base, users, user, handle, sid)
      if m and deadline(m) <= now then
        remove(key, index, sid, m, 'expired', expiry_reason(m))
      elseif m and not m.move_to then
        local n = #out
        out[n + 1], out[n + 2], out[n + 3] = handle, num(m.created), num(m.idle_at - m.idle_timeout)
        out[n + 4], out[n + 5] = num(deadline(m)), m.label or false
      end
    end
  end
  return out
end

-- KEYS: slot groups' indexes. ARGV: now, user id, the handle to end ('' for every one), the handle to spare
-- ('' for none), how long to remember the revocation in each group, in ms (0: not at all; a Cluster's
-- renames across groups need it, see put). Reply: how many live sessions it ended.
local function revoke(keys, args)
  local now, user, only, except, remember = tonumber(args[1]), args[2], args[3], args[4], tonumber(args[5])
  local ended = 0
  for k = 1, #keys do
    local index = keys[k]
    local base = string.sub(index, 1, -7)
    local users = base .. 'user:' .. user
    if remember > 0 then
      local tombstones = base .. 'revoked:' .. user
      if only ~= '' then redis.call('HSET', tombstones, only, num(now))
      else redis.call('HSET', tombstones, '', num(now) .. ' ' .. except) end
      redis.call('PEXPIRE', tombstones, remember)
    end
    local entries
    if only == '' then entries = redis.call('HGETALL', users)
    else
      local sid = redis.call('HGET', users, only)
      entries = sid and { only, sid } or {}
    end
    for i = 1, #entries, 2 do
      local handle, sid = entries[i], entries[i + 1]
      if handle ~= except then
        local key, m = indexed(base, users, user, handle, sid)
        if m and m.move_to then
          -- Frozen by a rename across groups: dropped quietly. The copy under the new id is ended (and
          -- counted) by this call's visit to its group, or refused there by the tombstone.
          remove(key, index, sid, m)
        elseif m and deadline(m) <= now then
          remove(key, index, sid, m, 'expired', expiry_reason(m))
        elseif m then
          remove(key, index, sid, m, 'destroyed', 'revoke')
          ended = ended + 1
        end
      end
    end
  end
  return ended
end
`;
