-- Drops a swarm's expired peers and settles its totals (settle.lua comes
-- first). The sweep runs it for the swarms the shard's index lists as
-- holding a peer older than the cutoff.
--
-- KEYS: the swarm's four peer lists, its counted key, the shard's totals
-- and index, then the swarm's identities and pairs (as in announce.lua,
-- without the download counter and the done leechers).
-- ARGV: swarm id (hex info hash), cutoff (ms).
local cutoff = tonumber(ARGV[2])
local card = {}
for i = 1, 4 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[2])
  card[i] = redis.call('ZCARD', KEYS[i])
end
-- Expired pairs of each class.
for c = 0, 3 do
  redis.call('ZREMRANGEBYSCORE', KEYS[9], string.format('%.0f', c * PAIR),
    '(' .. string.format('%.0f', c * PAIR + cutoff))
end
-- Expired identities, once they outnumber the live peers: a walk of the
-- hash then pays for the announces that left them.
local live = card[1] + card[2] + card[3] + card[4]
if redis.call('HLEN', KEYS[8]) > 2 * live + 64 then
  local all = redis.call('HGETALL', KEYS[8])
  for i = 1, #all, 2 do
    if tonumber(string.sub(all[i + 1], 23)) < cutoff then redis.call('HDEL', KEYS[8], all[i]) end
  end
end
local old = counted_of(KEYS[5])
pairs_of(KEYS[9], cutoff, card, had_pairs(old))
settle(KEYS, KEYS[5], KEYS[6], KEYS[7], ARGV[1], card, true, old)
return card[1] + card[2] + card[3] + card[4]
