-- One announce in one round trip (loaded once, run by SHA; settle.lua
-- comes first).
--
-- KEYS: the swarm's IPv4 seeders, IPv4 leechers, IPv6 seeders, IPv6
-- leechers (sorted sets: member = compact address .. peer ID, score =
-- last-seen milliseconds), its download counter and its counted key; then
-- its shard's totals and index (see settle.lua); then the swarm's done
-- leechers (a sorted set like the lists: leechers that have seeded or
-- finished here before, so that they count no second download); then the
-- swarm's dual-stack pairs and the share of its identities that holds the
-- announcer's peer ID (below). The swarm's keys share one hash tag
-- and the shard's two are in the same Redis Cluster slot, so the script
-- runs on one node.
--
-- ARGV: member, is IPv6 (0/1), is seeder (0/1), event, now, cutoff (ms;
-- members seen before it have expired), numwant, peer lifetime (ms), swarm
-- retention (ms), swarm id (hex info hash), identity (peer ID and the 4
-- bytes of the key, or empty without a key), a random number below 2^52,
-- and the sample size: 0 to draw the announcer's answer (numwant peers),
-- -1 to draw nothing (the tracker answers from its own sample of the
-- swarm), n > 0 to draw a sample of up to n peers from each of the
-- family's two lists whatever the announcer's role (see sample.go).
--
-- Within a family the address tells peers apart, key or not. The key ties
-- a peer's IPv4 and IPv6 members into one peer: identities are kept in
-- hashes, field peer ID and '4' or '6', value the key (4 bytes), the
-- address (padded to 18 bytes) and the last-seen time, plus .5 when it
-- seeds there or .25 when it is done there (a done leecher). A swarm's
-- identities are spread over eight hashes by the last byte of the peer ID
-- (KEYS[11] holds the announcer's): Redis keeps a hash of up to 512 fields
-- as a list it scans, and one hash per swarm was scanned to its end on
-- most announces. The first address of a family to come with a key holds
-- its peer ID's identity there; another is a peer of its own, tied to
-- nothing; a holder that changes its key keeps its identity (aria2c sends
-- a new UDP key every time). The two families' identities of a peer ID with the same key are
-- one peer, a pair: KEYS[10] holds the pairs (member: peer ID), scored
-- class * 2^44 plus the older half's last-seen time, class being the
-- halves' roles: 0 seeder in both, 1 IPv4 seeder and IPv6 leecher, 2 the
-- reverse, 3 leecher in both; so a pair stops counting when its older
-- half expires. A pair counts as one peer: a seeder when either half
-- seeds. Identities past their time count as absent; the sweep drops them,
-- or a keyed announce whose hash has grown past its share (below).
local member = ARGV[1]
local v6 = ARGV[2] == '1'
local seeder = ARGV[3] == '1'
local event = ARGV[4]
local now = ARGV[5]
local cutoff = ARGV[6]
-- Lua's tonumber is strtod: each costs about as much as a small command.
local cut = tonumber(cutoff)
local numwant = tonumber(ARGV[7])
local lifetime = ARGV[8]
local retention = ARGV[9]
local id = ARGV[10]
local ident = ARGV[11]

local size, skey, lkey, si, li = 6, KEYS[1], KEYS[2], 1, 2
if v6 then
  size, skey, lkey, si, li = 18, KEYS[3], KEYS[4], 3, 4
end

-- What the totals hold for the swarm, and its score in the shard's index
-- (see settle).
local old = counted_of(KEYS[6])

-- Drop the swarm's expired peers: expiry without ever scanning the
-- keyspace. Swarms nobody announces to are left to the sweep. The shard's
-- index scores the swarm at or below its oldest peer's last-seen time (see
-- settle), so a score at or after the cutoff means that no peer has expired
-- yet, and the counted key's copy of it stands in for five
-- ZREMRANGEBYSCOREs on most announces; a swarm that is swept is scored at
-- its oldest peer again. (Replicas whose clocks disagree can make a peer
-- expire late by their difference.)
local swept = false
local indexed = old[9]
if not indexed or tonumber(indexed) < cut then
  for _, i in ipairs({1, 2, 3, 4, 9}) do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. cutoff)
  end
  swept = true
end
-- The identities of the announcer's peer ID in its family and the other:
-- read when it sent a key, or stops.
local pid, paddr = string.sub(member, size + 1), string.sub(member, 1, size)
local function parse(v)
  if not v then return nil end
  local sc = tonumber(string.sub(v, 23))
  if sc < cut then return nil end
  return string.sub(v, 1, 4), string.sub(v, 5, 22), sc
end
local own_f, twin_f = pid .. '4', pid .. '6'
if v6 then own_f, twin_f = twin_f, own_f end
local pad = string.rep('\0', 18 - size)
local key = string.sub(ident, 21)
local linked, own_s, twin_s, twin_k, twin_a, was_paired = false
if ident ~= '' or event == 'stopped' then
  local v = redis.call('HMGET', KEYS[11], own_f, twin_f)
  local own_k, own_a, os = parse(v[1])
  local tk, ta, ts = parse(v[2])
  was_paired = os ~= nil and ts ~= nil and own_a == paddr .. pad and own_k == tk
  if ident ~= '' then
    -- The first address with a key holds the identity; another address
    -- of the family is a peer of its own, tied to no other.
    linked = os == nil or own_a == paddr .. pad
    if linked then
      own_s = os
      if ts and tk == key then twin_s, twin_k, twin_a = ts, tk, ta end
    end
  elseif os and own_a == paddr .. pad then
    -- The holder stops without a key.
    linked, key, own_s = true, own_k, os
    if was_paired then twin_s, twin_k, twin_a = ts, tk, ta end
  end
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
-- which it keeps while it leeches and loses when it seeds or leaves; a
-- half of a dual-stack peer by its identity's score, or its twin's.
local marked = was_leecher and redis.call('ZSCORE', KEYS[9], member) ~= false
if not was_seeder and not was_leecher and event ~= 'stopped' then
  -- A new peer starts unmarked, whatever a sweep on a replica with
  -- another clock may have left behind.
  redis.call('ZREM', KEYS[9], member)
end
local done = was_seeder or marked
if linked then
  done = done or (own_s ~= nil and own_s % 1 > 0) or (twin_s ~= nil and twin_s % 1 > 0)
end
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

local paired = false
if linked then
  if done and twin_s and twin_s % 1 == 0 then
    -- What the peer finished over one family it finished.
    twin_s = twin_s + 0.25
    redis.call('HSET', KEYS[11], twin_f, twin_k .. twin_a .. string.format('%.2f', twin_s))
  end
  if event == 'stopped' then
    redis.call('HDEL', KEYS[11], own_f)
  else
    -- The score's fraction, written out: string.format costs a printf.
    local frac = '.00'
    if seeder then frac = '.50' elseif done then frac = '.25' end
    redis.call('HSET', KEYS[11], own_f, key .. paddr .. pad .. now .. frac)
    redis.call('PEXPIRE', KEYS[11], lifetime)
    if twin_s then
      local s4, s6 = seeder, twin_s % 1 == 0.5
      if v6 then s4, s6 = s6, s4 end
      local class = 0
      if not s4 then class = class + 2 end
      if not s6 then class = class + 1 end
      redis.call('ZADD', KEYS[10], class * PAIR + math.floor(twin_s), pid)
      redis.call('PEXPIRE', KEYS[10], lifetime)
      paired = true
    end
  end
end
if was_paired and not paired then redis.call('ZREM', KEYS[10], pid) end

-- The lists' sizes: this family's two are counted; the other family's
-- were counted by the last script that changed them (every change to a
-- list is settled, and a list's TTL fires only after its oldest peer has
-- expired, which makes the announce sweep and count all four).
local card = {}
for i = 1, 4 do
  if swept or i == si or i == li then
    card[i] = redis.call('ZCARD', KEYS[i])
  else
    card[i] = tonumber(old[i]) or 0
  end
end
-- Identities of keyed peers that left without a stop: the sweep walks the
-- hashes of swarms nobody announces to, but a swarm that announces keep
-- swept is never its task, and its hashes never expire. So an announce
-- that adds an identity to its hash walks it once it holds over four times
-- its share of the live peers (and 16 more, for small swarms): a hash grows
-- only by such adds, so the leftovers stay bounded, and a walk pays for the
-- announces that left them.
if linked and own_s == nil and event ~= 'stopped' and
    redis.call('HLEN', KEYS[11]) > (card[1] + card[2] + card[3] + card[4]) / 2 + 16 then
  local all = redis.call('HGETALL', KEYS[11])
  for i = 1, #all, 2 do
    if tonumber(string.sub(all[i + 1], 23)) < cut then redis.call('HDEL', KEYS[11], all[i]) end
  end
end
pairs_of(KEYS[10], cut, card, paired or had_pairs(old))
local downloaded = tonumber(redis.call('GET', KEYS[5])) or 0
if downloaded > 0 then redis.call('PEXPIRE', KEYS[5], retention) end
settle(KEYS, KEYS[6], KEYS[7], KEYS[8], id, card, swept, old)

-- The answer's peers, drawn from at most two lists: for each, how many to
-- take and the members read (compact address and peer ID each, the
-- announcer perhaps among them, which is why one more is read), joined into
-- one string. The tracker skips the announcer and cuts the rest: cutting
-- fifty strings here cost more than the whole draw.
local drawn = {0, '', 0, ''}
-- Two random numbers below 2^26 (ARGV[12] is one below 2^52, from the
-- tracker: a script's own random numbers repeat from call to call).
local rand = tonumber(ARGV[12])
local r1 = rand % 67108864
local r2 = (rand - r1) / 67108864
-- take draws n of the c members of key at random into drawn's slot: the
-- list seen as a ring from a random start r, read as windows of at most 16
-- neighbours (by last-seen time) spread evenly around it. ZRANGE by rank
-- is what a sorted set reads cheapest; ZRANDMEMBER with a count copies the
-- set into a dictionary when it asks for more than a third of it, and cost
-- more than the rest of the script.
local function take(slot, key, c, n, r)
  if n <= 0 or c <= 0 then return end
  drawn[slot] = n
  local want = n + 1
  if want >= c then
    drawn[slot + 1] = table.concat(redis.call('ZRANGE', key, 0, -1))
    return
  end
  local k = math.ceil(want / 16)
  local step = math.floor(c / k)
  local start = r % c
  local parts = {}
  for w = 0, k - 1 do
    -- Each window takes its share of what is still wanted, at most step
    -- so that windows never overlap; the last one takes the rest, which
    -- fits in the c - (k-1)*step members left to it.
    local len = want
    if w < k - 1 then len = math.min(step, math.ceil(want / (k - w))) end
    want = want - len
    local s = (start + w * step) % c
    local e = s + len - 1
    if e < c then
      parts[#parts + 1] = table.concat(redis.call('ZRANGE', key, s, e))
    else
      parts[#parts + 1] = table.concat(redis.call('ZRANGE', key, s, c - 1))
      parts[#parts + 1] = table.concat(redis.call('ZRANGE', key, 0, e - c))
    end
  end
  drawn[slot + 1] = table.concat(parts)
end

local sample = tonumber(ARGV[13])
if event == 'stopped' or sample < 0 then
  -- Nothing to draw.
elseif sample > 0 then
  -- A list that fits is read whole; take reads one member more than it
  -- is asked for.
  for _, l in ipairs({{1, skey, card[si], r1}, {3, lkey, card[li], r2}}) do
    if l[3] > 0 and l[3] <= sample then
      drawn[l[1]] = l[3]
      drawn[l[1] + 1] = table.concat(redis.call('ZRANGE', l[2], 0, -1))
    else
      take(l[1], l[2], l[3], sample - 1, l[4])
    end
  end
elseif numwant > 0 then
  if seeder then
    take(3, lkey, card[li], numwant, r2)
  else
    -- The announcer is one of this family's leechers.
    local cs, cl = card[si], card[li] - 1
    if cs + cl <= numwant then
      take(1, skey, cs, cs, r1)
      take(3, lkey, cl + 1, cl, r2)
    else
      local ks = math.min(cs, math.floor(numwant * cs / (cs + cl) + 0.5))
      local kl = numwant - ks
      if kl > cl then
        kl = cl
        ks = numwant - kl
      end
      take(1, skey, cs, ks, r1)
      take(3, lkey, cl + 1, kl, r2)
    end
  end
end

-- The swarm's seeders and leechers, each pair once (one of its seeders
-- when both halves seed, else one of its leechers); downloads; the drawn
-- peers; then the sizes of the announcer's family's lists, which the
-- tracker's samples go by.
return {card[1] + card[3] - card[5], card[2] + card[4] - card[6] - card[7] - card[8], downloaded, finished,
  drawn[1], drawn[2], drawn[3], drawn[4], card[si], card[li]}
