-- Registers a torrent, atomically with the checks that keep every info hash
-- in one swarm. Every key is under the {allow} hash tag: one Cluster slot.
--
-- KEYS: the registered set (hex info hashes), its version counter, the
-- aliases (a hash: alias -> info hash) and the hybrids (a hash: info hash
-- -> alias). ARGV: the hex info hash, its hex alias or ''.
--
-- Returns 1 when the registrations changed, 0 when they were already so;
-- fails with CONFLICT when the registration would give a hash two swarms.
local h, a = ARGV[1], ARGV[2]

-- The torrent an alias belongs to, if it is still registered: an older
-- replica withdraws a torrent without knowing of its alias.
local function owner_of(alias)
  local owner = redis.call('HGET', KEYS[3], alias)
  if owner and redis.call('SISMEMBER', KEYS[1], owner) == 1 then return owner end
  return nil
end

local owner = owner_of(h)
if owner then
  return redis.error_reply('CONFLICT ' .. h .. ' is the alias of ' .. owner)
end
if a ~= '' then
  if redis.call('SISMEMBER', KEYS[1], a) == 1 then
    return redis.error_reply('CONFLICT the alias ' .. a .. ' is registered as a torrent')
  end
  owner = owner_of(a)
  if owner and owner ~= h then
    return redis.error_reply('CONFLICT the alias ' .. a .. ' is that of ' .. owner)
  end
end

-- h is no registered torrent's alias: drop what an older replica left.
redis.call('HDEL', KEYS[3], h)
local added = redis.call('SADD', KEYS[1], h) == 1
local prev = redis.call('HGET', KEYS[4], h) or ''
if not added and prev == a then return 0 end
if prev ~= '' and redis.call('HGET', KEYS[3], prev) == h then redis.call('HDEL', KEYS[3], prev) end
if a ~= '' then
  redis.call('HSET', KEYS[3], a, h)
  redis.call('HSET', KEYS[4], h, a)
else
  redis.call('HDEL', KEYS[4], h)
end
redis.call('INCR', KEYS[2])
return 1
