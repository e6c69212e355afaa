package redisstore

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

func redisFor(t *testing.T) *testenv.RedisServer {
	t.Helper()
	// A server per test keeps tests independent; it starts in a few ms.
	return testenv.StartRedis(t)
}

func newStore(t *testing.T, addr string, cfg Config) *Store {
	t.Helper()
	c, err := NewClient(ClientConfig{URL: "redis://" + addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = c
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	r := redisFor(t)
	n := 0
	storetest.Run(t, func(t *testing.T, lifetime time.Duration, clock *storetest.Clock) tracker.Store {
		n++
		return newStore(t, r.Addr, Config{Prefix: "conf" + strconv.Itoa(n), PeerLifetime: lifetime, Now: clock.Now})
	})
}

// The suite again with every answer drawn in Redis: its swarms of 64 peers
// and more are otherwise answered from the replica's sample.
func TestConformanceDrawnInRedis(t *testing.T) {
	r := redisFor(t)
	n := 0
	storetest.Run(t, func(t *testing.T, lifetime time.Duration, clock *storetest.Clock) tracker.Store {
		n++
		return newStore(t, r.Addr, Config{Prefix: "drawn" + strconv.Itoa(n), PeerLifetime: lifetime, Now: clock.Now, SampleUses: -1})
	})
}

func TestConformanceOnCluster(t *testing.T) {
	addrs := testenv.StartRedisCluster(t)
	storetest.Run(t, func(t *testing.T, lifetime time.Duration, clock *storetest.Clock) tracker.Store {
		c, err := NewClient(ClientConfig{Addrs: addrs, Cluster: true, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Client: c, Prefix: fmt.Sprintf("cl%d", time.Now().UnixNano()), PeerLifetime: lifetime, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

var cmdstatRE = regexp.MustCompile(`(?m)^cmdstat_([a-z|]+):calls=(\d+)`)

func commandStats(t *testing.T, r *testenv.RedisServer) map[string]int {
	t.Helper()
	out, err := r.CLI("info", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	stats := map[string]int{}
	for _, m := range cmdstatRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		stats[m[1]] = n
	}
	return stats
}

func TestOneRoundTripPerAnnounce(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	var out tracker.SwarmAnswer
	// Load the script first, so the count below is the steady state.
	if err := s.Announce(ctx, tracker.PeerAnnounce{InfoHash: storetest.Hash(0), PeerID: storetest.ID(0), Addr: storetest.Addr4(0), NumWant: 50}, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CLI("config", "resetstat"); err != nil {
		t.Fatal(err)
	}
	const announces = 40
	for n := range announces {
		out.Reset()
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(n % 4), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: n%2 == 0, NumWant: 50}
		if err := s.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
	}
	stats := commandStats(t, r)
	// The client's own commands: EVALSHA, and nothing else but the
	// INFO and CONFIG of this test.
	if stats["evalsha"] != announces {
		t.Fatalf("%d EVALSHA for %d announces: %v", stats["evalsha"], announces, stats)
	}
	for cmd, n := range stats {
		switch cmd {
		case "evalsha", "info", "config|resetstat":
		default:
			// Commands the script runs show up as their own names;
			// anything else is an extra round trip.
			if !scriptCommand[cmd] {
				t.Errorf("unexpected command %s (%d calls): more than one round trip per announce", cmd, n)
			}
		}
	}
}

// scriptCommand lists the commands announce.lua runs inside Redis.
var scriptCommand = map[string]bool{
	"zremrangebyscore": true, "incr": true, "zrem": true, "zadd": true,
	"pexpire": true, "zcard": true, "get": true, "zscore": true,
	// identities of keyed peers, and dropping the expired ones
	"hlen": true, "hgetall": true,
	// settle.lua, keeping the totals
	"hmget": true, "hincrby": true, "hdel": true, "hset": true, "del": true, "zrange": true,
}

func TestScrapeIsOnePipeline(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	var hashes []tracker.InfoHash
	var out tracker.SwarmAnswer
	for n := range 30 {
		hashes = append(hashes, storetest.Hash(n))
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(n), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: true, Event: tracker.EventCompleted}
		if err := s.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
	}
	stats := make([]tracker.ScrapeStats, len(hashes))
	if err := s.Scrape(ctx, hashes, stats); err != nil {
		t.Fatal(err)
	}
	for i, st := range stats {
		if st != (tracker.ScrapeStats{Seeders: 1, Downloaded: 1}) {
			t.Fatalf("torrent %d: %+v", i, st)
		}
	}
}

func TestPeersAndThenSwarmKeysExpire(t *testing.T) {
	r := redisFor(t)
	// The sweep drops the peers and the totals; the download counters
	// expire by themselves.
	s := newStore(t, r.Addr, Config{PeerLifetime: time.Second, SwarmRetention: 2 * time.Second, SweepEvery: 100 * time.Millisecond})
	ctx := context.Background()
	var out tracker.SwarmAnswer
	for n := range 20 {
		ev := tracker.EventStarted
		if n%5 == 0 {
			ev = tracker.EventCompleted
		}
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(n % 3), PeerID: storetest.ID(n), Addr: storetest.Addr6(n), Event: ev, Seeder: n%5 == 0}
		if n%2 == 0 {
			// Keyed peers leave identities behind too.
			pa.Key = storetest.Key(n)
		}
		if err := s.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
	}
	if n := dbsize(t, r); n == 0 {
		t.Fatal("no keys after announces")
	}
	// The sweeper's lock (SET NX with a TTL of one period, taken every
	// period) exists most of the time by design; it is no swarm's key.
	// KEYS, unlike DBSIZE, leaves out keys whose TTL has passed but that
	// Redis has not reclaimed yet.
	var left []string
	if !testenv.Poll(10*time.Second, func() bool {
		out, err := r.CLI("keys", "*")
		if err != nil {
			t.Fatal(err)
		}
		left = slices.DeleteFunc(strings.Fields(out), func(k string) bool { return k == s.sweepLock() })
		return len(left) == 0
	}) {
		t.Fatalf("keys left after lifetime and retention: %q", left)
	}
}

func dbsize(t *testing.T, r *testenv.RedisServer) int {
	t.Helper()
	out, err := r.CLI("dbsize")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("dbsize: %q", out)
	}
	return n
}

func TestRedisDownAndBack(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(1), Addr: storetest.Addr4(1), NumWant: 50}
	var out tracker.SwarmAnswer
	if err := s.Announce(ctx, pa, &out); err != nil {
		t.Fatal(err)
	}
	r.Proc.Stop(9, time.Second) // as if it crashed
	start := time.Now()
	out.Reset()
	if err := s.Announce(ctx, pa, &out); err == nil {
		t.Fatal("announce succeeded with Redis down")
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("ping succeeded with Redis down")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("failing took %s: timeouts are not bounded", d)
	}
	// Back, and empty: the script is reloaded and the swarm rebuilds.
	r.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.Reset()
		err := s.Announce(ctx, pa, &out)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out.Leechers != 1 {
		t.Fatalf("after restart: %+v", out)
	}
}

func TestNewClientRejectsContradictions(t *testing.T) {
	bad := []ClientConfig{
		{},
		{URL: "redis://x:1", Addrs: []string{"y:1"}},
		{Addrs: []string{"y:1"}, Cluster: true, MasterName: "m"},
		{URL: "redis://x:1", Cluster: true},
		{URL: "http://x:1"},
	}
	for _, c := range bad {
		if cl, err := NewClient(c); err == nil {
			cl.Close()
			t.Errorf("NewClient(%+v) accepted", c)
		}
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	for _, u := range []string{"redis://user:s3cret@host:6379/0", "rediss://:s3cret@host:6379", "redis://us er:s3cret@ho st"} {
		if got := Redact(u); strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) = %q", u, got)
		}
	}
	_, err := NewClient(ClientConfig{URL: "redis://:s3cret@host:notaport/x/y"})
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestPoolCollectorLintsClean(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	// The seven totals (torrents, and peers by role in ipv4, ipv6 and
	// both), the six pool series, answers by the three sources of their
	// peers and the sampled swarms.
	if n := testutil.CollectAndCount(s.Collector()); n != 17 {
		t.Fatalf("%d series, want 17", n)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestRegisteredTorrentsAreSharedThroughRedis(t *testing.T) {
	r := redisFor(t)
	a := newStore(t, r.Addr, Config{})
	b := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	v0, err := b.AllowedVersion(ctx)
	if err != nil || v0 != 0 {
		t.Fatalf("version before any change: %d %v", v0, err)
	}
	if err := a.AddAllowed(ctx, tracker.Registration{InfoHash: storetest.Hash(1)}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddAllowed(ctx, tracker.Registration{InfoHash: storetest.Hash(2)}); err != nil {
		t.Fatal(err)
	}
	list, err := b.ListAllowed(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("other replica lists %v, %v", list, err)
	}
	v1, _ := b.AllowedVersion(ctx)
	if err := a.RemoveAllowed(ctx, storetest.Hash(1)); err != nil {
		t.Fatal(err)
	}
	v2, _ := b.AllowedVersion(ctx)
	list, _ = b.ListAllowed(ctx)
	if v1 == v0 || v2 == v1 || len(list) != 1 || list[0].InfoHash != storetest.Hash(2) {
		t.Fatalf("after removal: versions %d %d %d, list %v", v0, v1, v2, list)
	}
}

// TestRegistrationsSurviveAnOlderReplicasWithdrawal: a replica of an older
// version withdraws a hybrid torrent from the registered set alone,
// leaving its alias entries behind. They must neither block the alias
// nor resurface.
func TestRegistrationsSurviveAnOlderReplicasWithdrawal(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	h1, h2, alias := storetest.Hash(1), storetest.Hash(2), storetest.V2(1)
	if err := s.AddAllowed(ctx, tracker.Registration{InfoHash: h1, Alias: alias}); err != nil {
		t.Fatal(err)
	}
	// The older replica: SREM, and the version.
	keys := s.allowKeys()
	for _, args := range [][]string{{"srem", keys[0], h1.String()}, {"incr", keys[1]}} {
		if _, err := r.CLI(args...); err != nil {
			t.Fatal(err)
		}
	}
	// The alias is free for another torrent, and h1 comes back (by an
	// older replica: SADD alone) without it.
	if err := s.AddAllowed(ctx, tracker.Registration{InfoHash: h2, Alias: alias}); err != nil {
		t.Fatalf("the alias of a withdrawn torrent: %v", err)
	}
	if _, err := r.CLI("sadd", keys[0], h1.String()); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAllowed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list, func(a, b tracker.Registration) int { return slices.Compare(a.InfoHash[:], b.InfoHash[:]) })
	want := []tracker.Registration{{InfoHash: h1}, {InfoHash: h2, Alias: alias}}
	if !slices.Equal(list, want) {
		t.Fatalf("registrations %v, want %v", list, want)
	}
	// Registering h1 anew, and withdrawing it, leaves h2's alias alone.
	if err := s.AddAllowed(ctx, tracker.Registration{InfoHash: h1, Alias: storetest.V2(9)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAllowed(ctx, h1); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListAllowed(ctx); !slices.Equal(list, want[1:]) {
		t.Fatalf("after h1 came and went: %v, want %v", list, want[1:])
	}
	if err := s.RemoveAllowed(ctx, alias); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListAllowed(ctx); len(list) != 0 {
		t.Fatalf("after withdrawing h2 by its alias: %v", list)
	}
}
