-- Drops a swarm's expired peers and settles its totals (settle.lua comes
-- first). The sweep runs it for the swarms the shard's index lists as
-- holding a peer older than the cutoff.
--
-- KEYS: the swarm's four peer lists, its counted key, the shard's totals
-- and index, then the swarm's pairs and its eight identity hashes (as in
-- announce.lua, without the download counter and the done leechers).
-- ARGV: swarm id (hex info hash), cutoff (ms).
local cutoff = tonumber(ARGV[2])
local card = {}
for i = 1, 4 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[2])
  card[i] = redis.call('ZCARD', KEYS[i])
end
-- Expired pairs of each class.
for c = 0, 3 do
  redis.call('ZREMRANGEBYSCORE', KEYS[8], string.format('%.0f', c * PAIR),
    '(' .. string.format('%.0f', c * PAIR + cutoff))
end
-- Expired identities, once they outnumber the live peers: a walk of the
-- hashes then pays for the announces that left them.
local live = card[1] + card[2] + card[3] + card[4]
local held = 0
for i = 9, 16 do held = held + redis.call('HLEN', KEYS[i]) end
if held > 2 * live + 64 then
  for k = 9, 16 do
    local all = redis.call('HGETALL', KEYS[k])
    for i = 1, #all, 2 do
      if tonumber(string.sub(all[i + 1], 23)) < cutoff then redis.call('HDEL', KEYS[k], all[i]) end
    end
  end
end
local old = counted_of(KEYS[5])
pairs_of(KEYS[8], cutoff, card, had_pairs(old))
settle(KEYS, KEYS[5], KEYS[6], KEYS[7], ARGV[1], card, true, old)
return card[1] + card[2] + card[3] + card[4]
