/**
 * Lua shared by the library's functions: the meta string, the liveness check every operation starts with,
 * the write that slides a deadline, what ending a user-bound session also does (its user index entry, its
 * event), and MessagePack numbers for incr. See `library.ts` for the whole.
 */
export const HELPERS = `
local META = ''
-- A bound session's hash stays in Redis this long past its deadline (dead to every operation meanwhile), so
-- that the sweeper can still read how it ended; with a sweeper running, it goes at its deadline.
local BOUND_GRACE_MS = 3600000
-- The events of user-bound sessions the running call produced, flat (type, reason, handle, user id) or nil:
-- see evented in library.ts.
local EVENTS = nil

-- Numbers as exact decimals: whole numbers (timestamps, sizes: nearly always) with %d, which costs Lua a
-- third of %.17g (measured: 0.23 against 0.6 µs); anything else with the 17 digits that round-trip a double.
local function num(x)
  if x == math.floor(x) and x > -1e15 and x < 1e15 and (x ~= 0 or 1 / x > 0) then
    return string.format('%d', x)
  end
  return string.format('%.17g', x)
end

-- User ids and labels in the meta string: percent-encoded, so they hold no space or comma.
local function encode(s)
  return (string.gsub(s, '[^%w%-_.~]', function(c) return string.format('%%%02X', string.byte(c)) end))
end

local function decode(s)
  return (string.gsub(s, '%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))
end

-- Five numbers, then named extras: ' m=<sid>,<until>' while a rename moves the session, ' u=<handle>,
-- <boundAt>,<user id>[,<label>]' while it is bound to a user, ' t=1' once setTimeouts gave it its own
-- timeouts. A reader that does not know an extra carries it over untouched.
local function parse_meta(raw)
  local c, it, ia, aa, b, rest = string.match(raw, '^(%S+) (%S+) (%S+) (%S+) (%S+)(.*)$')
  local m = { created = tonumber(c), idle_timeout = tonumber(it), idle_at = tonumber(ia),
    absolute_at = tonumber(aa), bytes = tonumber(b), extra = '' }
  if rest == '' then return m end
  for name, value in string.gmatch(rest, ' (%w+)=(%S+)') do
    if name == 'm' then
      local to, before = string.match(value, '^([^,]+),(%S+)$')
      m.move_to, m.move_until = to, tonumber(before)
    elseif name == 'u' and string.match(value, '^[^,]+,[^,]+,[^,]+') then
      local handle, at, user, comma, label = string.match(value, '^([^,]+),([^,]+),([^,]+)(,?)(.*)$')
      m.handle, m.bound_at, m.user = handle, tonumber(at), decode(user)
      if comma ~= '' then m.label = decode(label) end
    elseif name == 't' then
      m.retimed = true
    else
      m.extra = m.extra .. ' ' .. name .. '=' .. value
    end
  end
  return m
end

-- A session key is <prefix>{<tag>}:<sid>: its group's index is <prefix>{<tag>}:expiry, in the same slot, and
-- so are the group's user index keys <prefix>{<tag>}:user:<user id>. Deriving them here keeps each call to
-- one declared key (and ~100 bytes shorter).
local function parts(key)
  local base, sid = string.match(key, '^(.*:)([^:]*)$')
  return base .. 'expiry', sid, base
end

local function format_meta(m)
  local s = num(m.created) .. ' ' .. num(m.idle_timeout) .. ' ' .. num(m.idle_at) .. ' ' ..
    num(m.absolute_at) .. ' ' .. num(m.bytes)
  if m.move_to then s = s .. ' m=' .. m.move_to .. ',' .. num(m.move_until) end
  if m.user then
    s = s .. ' u=' .. m.handle .. ',' .. num(m.bound_at) .. ',' .. encode(m.user)
    if m.label then s = s .. ',' .. encode(m.label) end
  end
  if m.retimed then s = s .. ' t=1' end
  return s .. (m.extra or '')
end

local function deadline(m) return math.min(m.idle_at, m.absolute_at) end

local function fail(message) error({ err = message }) end

-- A session's entry in its group's deadline index: its id, or for a bound session '<sid> <handle> <user id>',
-- so that the sweeper can clear the user's index even once Redis has removed the hash itself.
local function member(sid, m)
  if m.user then return sid .. ' ' .. m.handle .. ' ' .. m.user end
  return sid
end

local function event(kind, reason, handle, user)
  EVENTS = EVENTS or {}
  local n = #EVENTS
  EVENTS[n + 1], EVENTS[n + 2], EVENTS[n + 3], EVENTS[n + 4] = kind, reason, handle, user
end

local function expiry_reason(m) return m.absolute_at <= m.idle_at and 'absolute' or 'idle' end

-- Drops the user index entry (user, handle) if it still names sid.
local function unindex(base, user, handle, sid)
  local users = base .. 'user:' .. user
  if redis.call('HGET', users, handle) == sid then redis.call('HDEL', users, handle) end
end

-- Removes a session (and a bound one from its user's index, with the event kind/reason when given).
local function remove(key, index, sid, m, kind, reason)
  redis.call('DEL', key)
  redis.call('ZREM', index, member(sid, m))
  if m.user then
    unindex(string.sub(index, 1, -7), m.user, m.handle, sid)
    if kind then event(kind, reason, m.handle, m.user) end
  end
end

-- The session under key if it is alive at now: (meta, 'live'), or (nil, 'missing' | 'expired' | 'moving').
-- A dead one is removed on the spot. One being moved by a rename across slots (Cluster) is dead to every
-- operation until the move is settled; when its time is up, the caller is asked to settle it (SSMOVING).
local function live(key, index, sid, now)
  local raw = redis.call('HGET', key, META)
  if not raw then return nil, 'missing' end
  local m = parse_meta(raw)
  if deadline(m) <= now then
    remove(key, index, sid, m, 'expired', expiry_reason(m))
    return nil, 'expired'
  end
  if m.move_to then
    if m.move_until <= now then fail('SSMOVING ' .. m.move_to .. ' ' .. num(deadline(m))) end
    return nil, 'moving'
  end
  return m, 'live'
end

-- Whether an id is taken (a live session or one being moved); an expired session under it is removed.
local function taken(key, index, sid, now)
  local raw = redis.call('HGET', key, META)
  if not raw then return false end
  local m = parse_meta(raw)
  if m.move_to or deadline(m) > now then return true end
  remove(key, index, sid, m, 'expired', expiry_reason(m))
  return false
end

-- Writes the meta (sliding the idle deadline first if asked), the key's expiry and the index entry.
local function save(key, index, sid, m, now, slide)
  if slide then m.idle_at = now + m.idle_timeout end
  local d = deadline(m)
  redis.call('HSET', key, META, format_meta(m))
  local expire_at = math.ceil(d)
  if m.user then expire_at = expire_at + BOUND_GRACE_MS end
  redis.call('PEXPIREAT', key, string.format('%d', expire_at))
  redis.call('ZADD', index, num(d), member(sid, m))
end

-- A bound session's deadline-index entry taken out by the sweep or an eviction (the caller removes the
-- entry): the hash goes, the user's index entry too, and the event tells how it ended. If Redis removed the
-- hash already (maxmemory, or no sweep within BOUND_GRACE_MS), there is no meta to tell it: no event.
local function end_entry(base, entry, now)
  local sid, handle, user = string.match(entry, '^(%S+) (%S+) (.*)$')
  local key = base .. sid
  local raw = redis.call('HGET', key, META)
  redis.call('DEL', key)
  unindex(base, user, handle, sid)
  if not raw then return end
  local m = parse_meta(raw)
  if deadline(m) <= now then event('expired', expiry_reason(m), handle, user)
  else event('evicted', 'capacity', handle, user) end
end

-- HSET of the field/value pairs args[from..], a few hundred at a time (unpack has a stack limit).
local function hset_from(key, args, from)
  local last = #args
  while from <= last do
    local to = math.min(from + 399, last)
    redis.call('HSET', key, unpack(args, from, to))
    from = to + 1
  end
end

local function call_chunked(command, key, list)
  local i = 1
  while i <= #list do
    local to = math.min(i + 399, #list)
    redis.call(command, key, unpack(list, i, to))
    i = to + 1
  end
end

-- MessagePack numbers exactly as number-codec.ts reads and writes them (the bytes every provider stores).
local function read_number(s)
  local n, tag = #s, string.byte(s, 1)
  if tag == nil then return nil end
  if tag <= 0x7f then return n == 1 and tag or nil end
  if tag >= 0xe0 then return n == 1 and tag - 0x100 or nil end
  local v
  if tag == 0xcc and n == 2 then v = struct.unpack('>B', s, 2)
  elseif tag == 0xcd and n == 3 then v = struct.unpack('>I2', s, 2)
  elseif tag == 0xce and n == 5 then v = struct.unpack('>I4', s, 2)
  elseif tag == 0xd0 and n == 2 then v = struct.unpack('>i1', s, 2)
  elseif tag == 0xd1 and n == 3 then v = struct.unpack('>i2', s, 2)
  elseif tag == 0xd2 and n == 5 then v = struct.unpack('>i4', s, 2)
  elseif tag == 0xca and n == 5 then v = struct.unpack('>f', s, 2)
  elseif tag == 0xcb and n == 9 then v = struct.unpack('>d', s, 2)
  end
  return v
end

local function write_number(v)
  local integer = v == v and v ~= math.huge and v ~= -math.huge and v == math.floor(v)
  if integer and not (v == 0 and 1 / v < 0) then
    if v >= 0 and v <= 0x7f then return string.char(v) end
    if v < 0 and v >= -32 then return string.char(v + 0x100) end
    if v > 0 and v <= 0xffffffff then return struct.pack('>BI4', 0xce, v) end
    if v < 0 and v >= -0x80000000 then return struct.pack('>Bi4', 0xd2, v) end
  end
  return struct.pack('>Bd', 0xcb, v)
end

`;
