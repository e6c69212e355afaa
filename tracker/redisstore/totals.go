package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitorigin/bitorigin/tracker"
)

// Totals of peers and torrents, for the tracker's headline gauges.
//
// A gauge that counted every swarm would walk the keyspace, which no
// replica does; so the scripts keep the totals as they change the swarms.
// On one server (or Sentinel) that could be one key, but on Redis Cluster a
// script may touch only keys of one slot, and a swarm's slot is its info
// hash's. So the totals are kept per shard, a shard being a Cluster slot:
// for each slot there is a hash tag that maps to it (found once, by trying
// short strings in a fixed order, so every replica agrees), and the
// announce script of a swarm updates the totals key of its slot, under
// that tag, alongside the swarm's own keys: still one script, one round
// trip. A reader sums the 16,384 shards' totals with one pipeline (split by
// go-redis into one per master); on one server there is a single shard.
//
// Each shard also has an index, a sorted set of its swarms scored at or
// below their oldest peer's last-seen time, so that the sweep finds swarms
// that may hold expired peers without scanning: the announce script drops the expired
// peers of the swarm it touches, and the sweep those of swarms nobody
// announces to. Both end with settle.lua, which moves the totals by the
// difference between what a swarm's lists hold and what was counted for
// it, so the totals stay exact even when a list expires by its TTL.
//
// Like the memory store's, the totals count peers still stored: one that
// stopped announcing is counted until it is dropped, at most one sweep
// period after its lifetime.

// numSlots is the number of Redis Cluster hash slots.
const numSlots = 16384

// shards names the shards' keys: base + "n" is a shard's totals (a hash:
// peers by list in fields 1-4, dual-stack pairs by class in fields 5-8,
// torrents with peers in field t), base + "x" its index.
type shards struct {
	bases []string // one per shard: a Cluster slot, or the one shard
}

func newShards(prefix string, cluster bool) shards {
	if !cluster {
		return shards{bases: []string{prefix + ":{all}:"}}
	}
	tags := slotTags()
	bases := make([]string, numSlots)
	for slot, tag := range tags {
		bases[slot] = prefix + ":{" + tag + "}:"
	}
	return shards{bases: bases}
}

// of returns the base of the shard of the swarm whose hash tag is id.
func (s shards) of(id []byte) string {
	if len(s.bases) == 1 {
		return s.bases[0]
	}
	return s.bases[keySlot(id)]
}

// slotTags returns, for each Cluster slot, a short hash tag that maps to
// it: the first, counting in base 36, that does. About 160,000 tries.
var slotTags = sync.OnceValue(func() []string {
	tags := make([]string, numSlots)
	left := numSlots
	for n := uint64(0); left > 0; n++ {
		tag := strconv.FormatUint(n, 36)
		if slot := keySlot(tag); tags[slot] == "" {
			tags[slot] = tag
			left--
		}
	}
	return tags
})

// keySlot is Redis Cluster's slot of a hash tag (or of a key without
// one): CRC16-XMODEM modulo 16,384.
func keySlot[T string | []byte](tag T) int {
	var crc uint16
	for i := 0; i < len(tag); i++ {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^tag[i]]
	}
	return int(crc) % numSlots
}

var crc16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// totalsTimeout bounds one read of the totals: on Cluster it is a pipeline
// of 16,384 small reads, more than one announce's round trip.
const totalsTimeout = time.Second

// Totals sums the shards' totals.
func (s *Store) Totals(ctx context.Context) (tracker.Totals, error) {
	ctx, cancel := context.WithTimeout(ctx, totalsTimeout)
	defer cancel()
	cmds := make([]*redis.SliceCmd, len(s.shards.bases))
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, base := range s.shards.bases {
			cmds[i] = p.HMGet(ctx, base+"n", "1", "2", "3", "4", "5", "6", "7", "8", "t")
		}
		return nil
	})
	var sum [9]int
	for i, c := range cmds {
		vals, err := c.Result()
		if err != nil {
			return tracker.Totals{}, fmt.Errorf("redis totals of shard %d: %w", i, err)
		}
		for j, v := range vals {
			if v == nil {
				continue
			}
			str, _ := v.(string)
			n, err := strconv.Atoi(str)
			if err != nil {
				return tracker.Totals{}, fmt.Errorf("redis totals of shard %d: field %d is %q", i, j, v)
			}
			sum[j] += n
		}
	}
	if err != nil {
		return tracker.Totals{}, fmt.Errorf("redis totals: %w", err)
	}
	// Fields 1-4 count the lists' members, 5-8 the dual-stack pairs by
	// class (SS, SL, LS, LL: IPv4 role first; see announce.lua).
	ss, sl, ls, ll := sum[4], sum[5], sum[6], sum[7]
	return tracker.Totals{
		Seeders4: sum[0] - ss - sl, Leechers4: sum[1] - ls - ll,
		Seeders6: sum[2] - ss - ls, Leechers6: sum[3] - sl - ll,
		SeedersBoth: ss + sl + ls, LeechersBoth: ll,
		Torrents: sum[8],
	}, nil
}

// Sweep paging: shards are read this many per pipeline, and this many
// swarms per shard per read.
const (
	sweepShardsPerPipeline = 1024
	sweepSwarmsPerShard    = 64
)

// SweepExpired drops the expired peers of every swarm that holds one, and
// settles its totals. The sweeper does this every period; tests call it to
// avoid waiting.
func (s *Store) SweepExpired(ctx context.Context) error {
	cutoff := millis(s.now().Add(-s.lifetime))
	if err := sweepScript.Load(ctx, s.c).Err(); err != nil {
		return fmt.Errorf("redis sweep: load script: %w", err)
	}
	bases := s.shards.bases
	for start := 0; start < len(bases); start += sweepShardsPerPipeline {
		chunk := bases[start:min(start+sweepShardsPerPipeline, len(bases))]
		// A shard with a full page may hold more: read the chunk again
		// until none has. Each pass removes what it read from the index
		// (or moves it past the cutoff), so passes are bounded by the
		// expired swarms; the cap is a guard against a bug looping.
		for pass := 0; ; pass++ {
			more, err := s.sweepShards(ctx, chunk, cutoff)
			if err != nil {
				return err
			}
			if !more {
				break
			}
			if pass == 10_000 {
				return errors.New("redis sweep: index entries do not go away")
			}
		}
	}
	return nil
}

// sweepShards sweeps up to a page of expired swarms in each of the shards
// and reports whether some shard had a full page.
func (s *Store) sweepShards(ctx context.Context, bases []string, cutoff int64) (bool, error) {
	found := make([]*redis.StringSliceCmd, len(bases))
	by := &redis.ZRangeBy{Min: "-inf", Max: "(" + strconv.FormatInt(cutoff, 10), Count: sweepSwarmsPerShard}
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, base := range bases {
			found[i] = p.ZRangeByScore(ctx, base+"x", by)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("redis sweep: read index: %w", err)
	}
	var ids []string
	more := false
	for _, f := range found {
		ids = append(ids, f.Val()...)
		more = more || len(f.Val()) == sweepSwarmsPerShard
	}
	if len(ids) == 0 {
		return false, nil
	}
	keys := make([][]string, len(ids))
	for i, id := range ids {
		var h tracker.InfoHash
		if n, err := hex.Decode(h[:], []byte(id)); err != nil || n != len(h) {
			return false, fmt.Errorf("redis sweep: index entry %q is no info hash", id)
		}
		k, _ := s.keys(h, -1)
		// The swarm's keys without the download counter and the done
		// leechers, and every identity hash.
		keys[i] = append(make([]string, 0, 8+identityShards), k[0], k[1], k[2], k[3], k[5], k[6], k[7], k[9])
		for n := range identityShards {
			keys[i] = append(keys[i], identityKeyN(k, n))
		}
	}
	cmds := make([]*redis.Cmd, len(ids))
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = sweepScript.EvalSha(ctx, p, keys[i], id, cutoff)
		}
		return nil
	})
	// Errors are per command; Pipelined's own is the first of them.
	for i, c := range cmds {
		if err := c.Err(); err != nil {
			return false, fmt.Errorf("redis sweep of %s: %w", ids[i], err)
		}
	}
	return more, nil
}

// sweeper runs SweepExpired every period on the replica that takes the
// period's lock first.
func (s *Store) sweeper(every time.Duration) {
	defer close(s.sweepDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stopSweep
		cancel()
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	lock := s.sweepLock()
	for {
		select {
		case <-s.stopSweep:
			return
		case <-t.C:
		}
		// Every replica drops its own unused samples.
		s.samples.prune(s.now())
		pctx, pcancel := context.WithTimeout(ctx, every)
		ok, err := s.c.SetNX(pctx, lock, "1", every).Result()
		if err == nil && ok {
			err = s.SweepExpired(pctx)
		}
		pcancel()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("redis sweep of expired peers failed; totals include them until a sweep succeeds", "err", err)
		}
	}
}

// sweepLock is the key a replica holds for a period to sweep in it.
func (s *Store) sweepLock() string { return s.prefix + ":{sweep}:lock" }

func (s *Store) closeSweep() {
	s.sweepOnce.Do(func() {
		close(s.stopSweep)
		<-s.sweepDone
	})
}
