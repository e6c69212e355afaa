package redisstore

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

func TestEveryReplicaExportsTheSharedTotals(t *testing.T) {
	r := redisFor(t)
	a := newStore(t, r.Addr, Config{})
	b := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	var out tracker.SwarmAnswer
	for n := range 6 {
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(n % 2), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: n < 2}
		if n == 5 {
			pa.Addr = storetest.Addr6(n)
		}
		if err := a.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP bitorigin_tracker_peers Peers in all swarms, each once, by role (seeder, leecher) and address family: ipv4 or ipv6 for a peer known over one family, both for a dual-stack peer (the same peer ID and key over each).
# TYPE bitorigin_tracker_peers gauge
bitorigin_tracker_peers{family="both",role="leecher",store="redis"} 0
bitorigin_tracker_peers{family="both",role="seeder",store="redis"} 0
bitorigin_tracker_peers{family="ipv4",role="leecher",store="redis"} 3
bitorigin_tracker_peers{family="ipv4",role="seeder",store="redis"} 2
bitorigin_tracker_peers{family="ipv6",role="leecher",store="redis"} 1
bitorigin_tracker_peers{family="ipv6",role="seeder",store="redis"} 0
# HELP bitorigin_tracker_torrents Torrents with at least one peer.
# TYPE bitorigin_tracker_torrents gauge
bitorigin_tracker_torrents{store="redis"} 2
`
	// Replica b never saw an announce; it reads the totals from Redis.
	if err := testutil.CollectAndCompare(b.Collector(), strings.NewReader(want), "bitorigin_tracker_peers", "bitorigin_tracker_torrents"); err != nil {
		t.Fatal(err)
	}
}

func TestTotalsAreLeftOutWhenRedisIsDown(t *testing.T) {
	r := redisFor(t)
	s := newTimedStore(t, r.Addr, 250*time.Millisecond, Config{})
	r.Proc.Stop(9, time.Second)
	start := time.Now()
	// Only the six pool series and the replica's own four of answers
	// and samples: no zeros that would look like an empty tracker.
	if n := testutil.CollectAndCount(s.Collector()); n != 10 {
		t.Fatalf("%d series with Redis down, want the 6 of the pool and 4 of the samples", n)
	}
	if d := time.Since(start); d > totalsTimeout+time.Second {
		t.Fatalf("collecting took %s with Redis down", d)
	}
}

// The totals move by what a swarm's lists hold, not by what one call
// changed, so a list that changed behind the scripts' backs (its TTL fired,
// or a replica of an older version wrote to it) is corrected at the
// swarm's next touch: an announce in the list's family, or the sweep.
func TestTotalsCorrectThemselvesAtTheSwarmsNextTouch(t *testing.T) {
	r := redisFor(t)
	clock := storetest.NewClock()
	s := newStore(t, r.Addr, Config{Now: clock.Now, PeerLifetime: storetest.Lifetime})
	ctx := context.Background()
	var out tracker.SwarmAnswer
	announce := func(n int) {
		t.Helper()
		out.Reset()
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(n), Addr: storetest.Addr4(n)}
		if err := s.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, want tracker.Totals) {
		t.Helper()
		got, err := s.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s: %+v, want %+v", what, got, want)
		}
	}
	announce(1)
	announce(2)
	keys, _ := s.keys(storetest.Hash(1), -1)
	// A peer written without the totals, as an older replica would.
	now := strconv.FormatInt(millis(clock.Now()), 10)
	if _, err := r.CLI("zadd", keys[1], now, "written-by-an-older-replica"); err != nil {
		t.Fatal(err)
	}
	check("before the next touch", tracker.Totals{Torrents: 1, Leechers4: 2})
	announce(3)
	check("after the next announce", tracker.Totals{Torrents: 1, Leechers4: 4})
	// An announce counts its own family's lists: the IPv6 leechers are
	// corrected by the next IPv6 announce.
	if _, err := r.CLI("zadd", keys[3], now, "written-by-an-older-replica-over-ipv6"); err != nil {
		t.Fatal(err)
	}
	announce(4)
	out.Reset()
	if err := s.Announce(ctx, tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(5), Addr: storetest.Addr6(5)}, &out); err != nil {
		t.Fatal(err)
	}
	check("after the next IPv6 announce", tracker.Totals{Torrents: 1, Leechers4: 5, Leechers6: 2})
	if out.Leechers != 7 {
		t.Fatalf("IPv6 announce counts %d leechers, want 7", out.Leechers)
	}
	// The lists vanish, as when their TTLs fire with no tracker to sweep.
	if _, err := r.CLI("del", keys[1], keys[3]); err != nil {
		t.Fatal(err)
	}
	clock.Advance(storetest.Lifetime + time.Second)
	if err := s.SweepExpired(ctx); err != nil {
		t.Fatal(err)
	}
	check("after the sweep", tracker.Totals{})
	if n := dbsize(t, r); n != 0 {
		out, _ := r.CLI("keys", "*")
		t.Fatalf("keys left after every peer expired:\n%s", out)
	}
}

// The swarm's counted key keeps a copy of its score in the shard's index,
// which tells an announce whether a peer may have expired: the copy follows
// the index through new swarms, expiries and sweeps, and a swarm without
// it (as an older replica leaves one) is swept by its next announce, which
// writes it.
func TestCountedKeyCopiesTheIndexScore(t *testing.T) {
	r := redisFor(t)
	clock := storetest.NewClock()
	s := newStore(t, r.Addr, Config{Now: clock.Now, PeerLifetime: storetest.Lifetime})
	ctx := context.Background()
	announce := func(swarm, n int) tracker.SwarmAnswer {
		t.Helper()
		var out tracker.SwarmAnswer
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(swarm), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), NumWant: 50}
		if err := s.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := r.CLI(args...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	same := func(what string, swarms ...int) {
		t.Helper()
		for _, n := range swarms {
			keys, id := s.keys(storetest.Hash(n), -1)
			indexed, copied := cli("zscore", keys[7], id), cli("hget", keys[5], "9")
			if indexed == "" || indexed != copied {
				t.Fatalf("%s: swarm %d scored %q in the index, %q in its counted key", what, n, indexed, copied)
			}
		}
	}
	for n := range 6 {
		announce(n%3, n)
	}
	same("new swarms", 0, 1, 2)
	clock.Advance(storetest.Lifetime / 2)
	announce(0, 10)
	announce(1, 11)
	clock.Advance(storetest.Lifetime/2 + time.Second)
	// Swarm 0's first peers expire at its next announce, swarm 1's at the
	// sweep; swarm 2 empties.
	if out := announce(0, 10); out.Leechers != 1 {
		t.Fatalf("swarm 0 counts %d leechers after its first peers expired, want 1", out.Leechers)
	}
	if err := s.SweepExpired(ctx); err != nil {
		t.Fatal(err)
	}
	same("after expiry", 0, 1)
	if keys, id := s.keys(storetest.Hash(2), -1); cli("exists", keys[5]) != "0" || cli("zscore", keys[7], id) != "" {
		t.Fatal("an empty swarm kept its counted key or its index entry")
	}
	// A swarm left without the copy, holding expired peers.
	announce(0, 20)
	keys, _ := s.keys(storetest.Hash(0), -1)
	clock.Advance(storetest.Lifetime + time.Second)
	cli("hdel", keys[5], "9")
	if out := announce(0, 21); out.Leechers != 1 {
		t.Fatalf("swarm 0 counts %d leechers, want 1 (peers 10 and 20 have expired)", out.Leechers)
	}
	same("after an announce to a swarm without the copy", 0)
}

func TestSlotTagsMapToTheirSlots(t *testing.T) {
	// Redis's own answers (CLUSTER KEYSLOT).
	for tag, slot := range map[string]int{"foo": 12182, "bar": 5061, "user1000": 3443, "123456789": 12739} {
		if got := keySlot(tag); got != slot {
			t.Errorf("slot of %q: %d, want %d", tag, got, slot)
		}
	}
	for slot, tag := range slotTags() {
		if keySlot(tag) != slot {
			t.Fatalf("tag %q is for slot %d, not %d", tag, keySlot(tag), slot)
		}
	}
}

// The identities of keyed peers that left without a stop are dropped: in
// a swarm nobody announces to, by the sweep; in one that announces keep
// swept, by the announces, from the hash each touches, once it holds
// several times its share of the live peers.
func TestExpiredIdentitiesAreDropped(t *testing.T) {
	for _, busy := range []bool{false, true} {
		t.Run(map[bool]string{false: "quiet swarm", true: "busy swarm"}[busy], func(t *testing.T) {
			r := redisFor(t)
			clock := storetest.NewClock()
			s := newStore(t, r.Addr, Config{Now: clock.Now, PeerLifetime: storetest.Lifetime})
			ctx := context.Background()
			announce := func(n int) {
				t.Helper()
				var out tracker.SwarmAnswer
				pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(n), Key: storetest.Key(n), Addr: storetest.Addr4(n)}
				if err := s.Announce(ctx, pa, &out); err != nil {
					t.Fatal(err)
				}
			}
			keys, _ := s.keys(storetest.Hash(1), -1)
			held := func() int {
				t.Helper()
				total := 0
				for n := range identityShards {
					out, err := r.CLI("hlen", identityKeyN(keys, n))
					if err != nil {
						t.Fatal(err)
					}
					c, err := strconv.Atoi(strings.TrimSpace(out))
					if err != nil {
						t.Fatalf("hlen: %q", out)
					}
					total += c
				}
				return total
			}
			const gone = 200 // 25 in each identity hash (storetest.ID ends in n)
			for n := range gone {
				announce(n)
			}
			if got := held(); got != gone {
				t.Fatalf("%d identities held after %d keyed announces", got, gone)
			}
			clock.Advance(storetest.Lifetime + time.Second)
			want := 0
			if busy {
				// New peers, one in each hash.
				for n := 1000; n < 1000+identityShards; n++ {
					announce(n)
				}
				want = identityShards
			} else if err := s.SweepExpired(ctx); err != nil {
				t.Fatal(err)
			}
			if got := held(); got != want {
				t.Fatalf("%d identities held, want %d (the live peers')", got, want)
			}
		})
	}
}
