-- settle brings a swarm's share of its shard's totals up to date; the
-- announce and sweep scripts both end with it.
--
-- keys: the swarm's four peer lists, its counted key (a hash: what the
-- totals hold for it, by list, fields 1-4, its pairs by class, fields 5-8,
-- and its score in the shard's index, field 9), the shard's totals (a hash:
-- peers by list, fields 1-4, and torrents with peers, field t) and the
-- shard's index (a sorted set: swarm id scored at or below its oldest
-- peer's last-seen time, for the sweep). card: the lists' sizes now, then
-- the swarm's dual-stack pairs by class (fields 5-8; see announce.lua).
-- reindex: score the swarm at its oldest peer again (whoever has just
-- dropped the peers older than its cutoff must; otherwise there is no need,
-- since an announce never makes a swarm's oldest peer older: a score left
-- low only makes the sweep visit the swarm early, and the next announce
-- sweep it).
--
-- The totals move by the difference between what the lists hold now and
-- what was counted for the swarm last time, not by what this call changed:
-- a list that expired by itself (its TTL is a safety net) or a peer written
-- by a replica of an older version is corrected at the swarm's next touch
-- (an announce counts the lists of its own family, a sweep all four)
-- instead of leaving the totals off for good.
--
-- The counted key also holds the swarm's score in the index (field 9), so
-- that an announce learns from the one read it needs anyway whether a peer
-- may have expired; settle writes both together.
local function counted_of(counted)
  return redis.call('HMGET', counted, '1', '2', '3', '4', '5', '6', '7', '8', '9')
end

-- old: counted_of(counted), read by the caller.
local function settle(keys, counted, totals, index, id, card, reindex, old)
  local had, has, changed = 0, 0, false
  for i = 1, 8 do
    local was = tonumber(old[i]) or 0
    if i <= 4 then had, has = had + was, has + card[i] end
    if card[i] ~= was then
      changed = true
      if redis.call('HINCRBY', totals, tostring(i), card[i] - was) == 0 then
        redis.call('HDEL', totals, tostring(i))
      end
    end
  end
  if has == 0 then
    if had > 0 then
      redis.call('DEL', counted)
      if redis.call('HINCRBY', totals, 't', -1) == 0 then redis.call('HDEL', totals, 't') end
    end
    -- Unconditionally, so that no index entry can outlive its swarm.
    redis.call('ZREM', index, id)
    return
  end
  if had == 0 then redis.call('HINCRBY', totals, 't', 1) end
  local oldest
  if had == 0 or reindex then
    local low
    for i = 1, 4 do
      if card[i] > 0 then
        local score = redis.call('ZRANGE', keys[i], 0, 0, 'WITHSCORES')[2]
        local n = tonumber(score)
        if low == nil or n < low then low, oldest = n, score end
      end
    end
    redis.call('ZADD', index, oldest, id)
  end
  if oldest then
    redis.call('HSET', counted, '1', card[1], '2', card[2], '3', card[3], '4', card[4],
      '5', card[5], '6', card[6], '7', card[7], '8', card[8], '9', oldest)
  elseif changed then
    redis.call('HSET', counted, '1', card[1], '2', card[2], '3', card[3], '4', card[4],
      '5', card[5], '6', card[6], '7', card[7], '8', card[8])
  end
end


-- Dual-stack pairs live in a sorted set (announce.lua) scored class * 2^44
-- plus the older half's last-seen time (ms): pairs_of counts the live pairs
-- of each class, SS, SL, LS, LL (IPv4 role first), into card[5..8]. A
-- pair whose older half has expired counts no more; the sweep drops it.
-- maybe: pairs may exist (the last count had some, or the caller added
-- one); else none are, and nothing is asked of Redis.
local PAIR = 17592186044416 -- 2^44 ms: 557 years
-- The classes' upper bounds, (c + 1) * PAIR, written out: string.format
-- costs a printf each.
local PAIR_ENDS = {'(17592186044416', '(35184372088832', '(52776558133248', '(70368744177664'}
local function pairs_of(pkey, cutoff, card, maybe)
  card[5], card[6], card[7], card[8] = 0, 0, 0, 0
  if not maybe then return end
  for c = 0, 3 do
    card[5 + c] = redis.call('ZCOUNT', pkey, string.format('%.0f', c * PAIR + cutoff), PAIR_ENDS[c + 1])
  end
end

-- had_pairs tells from counted_of whether the swarm had pairs last time.
local function had_pairs(old)
  for i = 5, 8 do
    -- Counts are written as integers: a string comparison spares a
    -- tonumber.
    if old[i] and old[i] ~= '0' then return true end
  end
  return false
end
