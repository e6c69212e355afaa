-- One announce in one round trip (loaded once, run by SHA; settle.lua
-- comes first).
--
-- KEYS: the swarm's IPv4 seeders, IPv4 leechers, IPv6 seeders, IPv6
-- leechers (sorted sets: member = compact address .. peer ID, score =
-- last-seen milliseconds), its download counter and its counted key; then
-- its shard's totals and index (see settle.lua); then the swarm's done
-- leechers (a sorted set like the lists: leechers that have seeded or
-- finished here before, so that they count no second download). The
-- swarm's seven share one hash tag and the shard's two are in the same
-- Redis Cluster slot, so the script runs on one node.
--
-- ARGV: member, is IPv6 (0/1), is seeder (0/1), event, now, cutoff (ms;
-- members seen before it have expired), numwant, peer lifetime (ms), swarm
-- retention (ms), want peer IDs (0/1), swarm id (hex info hash).
--
-- Returns {seeders, leechers, downloaded, compact peers, peer IDs, finished
-- (1 when this announce counted a download)}.
local member = ARGV[1]
local v6 = ARGV[2] == '1'
local seeder = ARGV[3] == '1'
local event = ARGV[4]
local now = ARGV[5]
local cutoff = ARGV[6]
local numwant = tonumber(ARGV[7])
local lifetime = ARGV[8]
local retention = ARGV[9]
local want_ids = ARGV[10] == '1'
local id = ARGV[11]

local size, skey, lkey, si, li = 6, KEYS[1], KEYS[2], 1, 2
if v6 then
  size, skey, lkey, si, li = 18, KEYS[3], KEYS[4], 3, 4
end

-- Drop the swarm's expired peers: expiry without ever scanning the
-- keyspace. Swarms nobody announces to are left to the sweep.
for _, i in ipairs({1, 2, 3, 4, 9}) do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. cutoff)
end
-- Apply the announce first and learn from the replies where the peer was:
-- ZREM answers 1 when the member was there, ZADD 1 when it is new.
local was_seeder, was_leecher
if event == 'stopped' then
  was_seeder = redis.call('ZREM', skey, member) == 1
  was_leecher = redis.call('ZREM', lkey, member) == 1
else
  local into, other = lkey, skey
  if seeder then
    into, other = skey, lkey
  end
  local left_other = redis.call('ZREM', other, member) == 1
  local was_in = redis.call('ZADD', into, now, member) == 0
  if seeder then
    was_seeder, was_leecher = was_in, left_other
  else
    was_seeder, was_leecher = left_other, was_in
  end
  -- The set outlives its newest member by nothing: an abandoned swarm's
  -- peers vanish by themselves even with no tracker left to sweep them
  -- (settle corrects the totals at the swarm's next sweep).
  redis.call('PEXPIRE', into, lifetime)
end

-- One download per peer that finishes: "completed", or a known leecher
-- that now has nothing left, from a peer that has not seeded or finished
-- here before. A seeder is done by its list; a leecher that was done (an
-- origin that lost a piece and fetches it again) by its mark in KEYS[9],
-- which it keeps while it leeches and loses when it seeds or leaves.
local marked = was_leecher and redis.call('ZSCORE', KEYS[9], member) ~= false
if not was_seeder and not was_leecher and event ~= 'stopped' then
  -- A new peer starts unmarked, whatever a sweep on a replica with
  -- another clock may have left behind.
  redis.call('ZREM', KEYS[9], member)
end
local done = was_seeder or marked
local finished = 0
if not done and (event == 'completed' or (was_leecher and seeder)) then
  redis.call('INCR', KEYS[5])
  finished = 1
  done = true
end
if event == 'stopped' or seeder then
  if marked then redis.call('ZREM', KEYS[9], member) end
elseif done then
  -- A done leecher: its mark lives as long as its entry.
  redis.call('ZADD', KEYS[9], now, member)
  redis.call('PEXPIRE', KEYS[9], lifetime)
end

local card = {}
for i = 1, 4 do
  card[i] = redis.call('ZCARD', KEYS[i])
end
local downloaded = tonumber(redis.call('GET', KEYS[5])) or 0
if downloaded > 0 then redis.call('PEXPIRE', KEYS[5], retention) end
settle(KEYS, KEYS[6], KEYS[7], KEYS[8], id, card, false)

local peers, ids = {}, {}
local function take(key, n)
  if n <= 0 then return end
  -- One more than needed, in case the announcer itself is drawn.
  local drawn = redis.call('ZRANDMEMBER', key, n + 1)
  local got = 0
  for _, m in ipairs(drawn) do
    if got >= n then break end
    if m ~= member then
      peers[#peers + 1] = string.sub(m, 1, size)
      if want_ids then ids[#ids + 1] = string.sub(m, size + 1) end
      got = got + 1
    end
  end
end

if event ~= 'stopped' and numwant > 0 then
  if seeder then
    take(lkey, numwant)
  else
    -- The announcer is one of this family's leechers.
    local cs, cl = card[si], card[li] - 1
    if cs + cl <= numwant then
      take(skey, cs)
      take(lkey, cl)
    else
      local ks = math.min(cs, math.floor(numwant * cs / (cs + cl) + 0.5))
      local kl = numwant - ks
      if kl > cl then
        kl = cl
        ks = numwant - kl
      end
      take(skey, ks)
      take(lkey, kl)
    end
  end
end

return {card[1] + card[3], card[2] + card[4], downloaded, table.concat(peers), table.concat(ids), finished}
