-- Withdraws the torrent ARGV[1] names, by its info hash or its alias, with
-- its alias. KEYS as in register.lua. Returns 1 when it was registered.
local h = ARGV[1]
local owner = redis.call('HGET', KEYS[3], h)
if owner and redis.call('SISMEMBER', KEYS[1], owner) == 1 then h = owner end
local alias = redis.call('HGET', KEYS[4], h)
if alias then
  if redis.call('HGET', KEYS[3], alias) == h then redis.call('HDEL', KEYS[3], alias) end
  redis.call('HDEL', KEYS[4], h)
end
if redis.call('SREM', KEYS[1], h) == 0 then return 0 end
redis.call('INCR', KEYS[2])
return 1
