"""The Lua scripts that make each cluster step atomic in Redis.

Redis runs a script without interleaving other commands, so the id a message gets and its place
in the room's stream are decided together: stream order is id order on every instance.
"""

from __future__ import annotations

# KEYS: seq, stream. ARGV: floor, maxlen, payload (JSON: sender, text, data, origin).
# The floor lets ids continue past what Redis forgot (a restart without persistence) or what a
# database already holds: the next id is max(counter, floor) + 1.
PUBLISH = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if last < floor then last = floor end
local id = last + 1
redis.call('SET', KEYS[1], id)
local sid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'id', id, 'm', ARGV[3])
return {id, sid}
"""

# KEYS: members hash, instance rooms set, presence stream.
# ARGV: event (join|leave), member key, name, room, presence maxlen.
# Returns the room's cluster-wide count, or -1 for a leave of someone not recorded (no event).
PRESENCE = """
if ARGV[1] == 'join' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[4])
elseif redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then
  return -1
end
local n = redis.call('HLEN', KEYS[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*',
  'room', ARGV[4], 'event', ARGV[1], 'name', ARGV[3], 'origin', ARGV[2], 'count', n)
return n
"""

# KEYS: instances set, the instance's rooms set, presence stream, its heartbeat, its wake stream.
# ARGV: instance id, key prefix, presence maxlen, 'force' (reap even if alive: own shutdown).
# Removes every member of a dead instance and announces each as a leave. Idempotent: a second
# reaper finds nothing left, so every leave is announced once however many instances sweep.
REAP = """
if ARGV[4] ~= 'force' and redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
local owned = ARGV[1] .. ':'
local removed = 0
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local hash = ARGV[2] .. '{' .. room .. '}:members'
  local fields = redis.call('HGETALL', hash)
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, #owned) == owned then
      redis.call('HDEL', hash, fields[i])
      removed = removed + 1
      redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'room', room, 'event', 'leave',
        'name', fields[i + 1], 'origin', fields[i], 'count', redis.call('HLEN', hash))
    end
  end
end
redis.call('DEL', KEYS[2], KEYS[4], KEYS[5])
redis.call('SREM', KEYS[1], ARGV[1])
return removed
"""

# KEYS: the instance's rooms set, presence stream. ARGV: instance id, key prefix, presence maxlen,
# then (room, key, name) triples. Makes Redis hold exactly this instance's current members after
# an outage (Redis may have lost them, a peer may have reaped them, or a join or leave that timed
# out here may have run after all) and announces each difference as a join or leave marked
# `resync`: peers' members and counts follow; this instance told its own members already.
RESYNC = """
local owned = ARGV[1] .. ':'
local wanted = {}
for i = 4, #ARGV, 3 do wanted[ARGV[i] .. '\0' .. ARGV[i + 1]] = true end
for _, room in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local hash = ARGV[2] .. '{' .. room .. '}:members'
  local fields = redis.call('HGETALL', hash)
  for j = 1, #fields, 2 do
    local field = fields[j]
    if string.sub(field, 1, #owned) == owned and not wanted[room .. '\0' .. field] then
      redis.call('HDEL', hash, field)
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'room', room, 'event', 'leave',
        'name', fields[j + 1], 'origin', field, 'count', redis.call('HLEN', hash), 'resync', '1')
    end
  end
end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 3 do
  local hash = ARGV[2] .. '{' .. ARGV[i] .. '}:members'
  if redis.call('HSET', hash, ARGV[i + 1], ARGV[i + 2]) == 1 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'room', ARGV[i], 'event', 'join',
      'name', ARGV[i + 2], 'origin', ARGV[i + 1], 'count', redis.call('HLEN', hash), 'resync', '1')
  end
  redis.call('SADD', KEYS[1], ARGV[i])
end
return 1
"""
