package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

func TestScrapeReportsEveryCommandsError(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	var out tracker.SwarmAnswer
	seed := tracker.PeerAnnounce{InfoHash: storetest.Hash(3), PeerID: storetest.ID(3), Addr: storetest.Addr4(3), Seeder: true}
	if err := s.Announce(ctx, seed, &out); err != nil {
		t.Fatal(err)
	}
	// Hash(1) is unknown: its missing download counter is the pipeline's
	// first error (redis.Nil), in front of the real one for Hash(2).
	k2, _ := s.keys(storetest.Hash(2), -1)
	cases := []struct {
		name  string
		key   string // of Hash(2)
		value string
	}{
		{"swarm key of the wrong type", k2[0], "not a sorted set"},
		{"download counter that is no number", k2[4], "many"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := r.CLI("flushall"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.CLI("set", c.key, c.value); err != nil {
				t.Fatal(err)
			}
			hashes := []tracker.InfoHash{storetest.Hash(1), storetest.Hash(2), storetest.Hash(3)}
			stats := make([]tracker.ScrapeStats, len(hashes))
			err := s.Scrape(ctx, hashes, stats)
			if err == nil {
				t.Fatalf("scrape with %s succeeded: %+v", c.name, stats)
			}
			if !strings.Contains(err.Error(), storetest.Hash(2).String()) {
				t.Errorf("error does not name the torrent: %v", err)
			}
		})
	}
}

func TestScrapeFailsWhenAClusterNodeIsDown(t *testing.T) {
	addrs := testenv.StartRedisCluster(t)
	c, err := NewClient(ClientConfig{Addrs: addrs, Cluster: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Client: c, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	cc := c.(*redis.ClusterClient)
	master := func(h tracker.InfoHash) string {
		t.Helper()
		k, _ := s.keys(h, -1)
		m, err := cc.MasterForKey(ctx, k[0])
		if err != nil {
			t.Fatal(err)
		}
		return m.Options().Addr
	}
	// Torrents on every master, the first of them on one that stays up
	// and without a download counter: its redis.Nil comes first.
	var hashes []tracker.InfoHash
	var out tracker.SwarmAnswer
	for n := range 30 {
		h := storetest.Hash(n)
		hashes = append(hashes, h)
		if n == 0 {
			continue
		}
		pa := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: true, Event: tracker.EventCompleted}
		if err := s.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
	}
	first := master(hashes[0])
	var victim string
	for _, h := range hashes[1:] {
		if m := master(h); m != first {
			victim = m
			break
		}
	}
	if victim == "" {
		t.Fatal("30 torrents on one master")
	}
	stats := make([]tracker.ScrapeStats, len(hashes))
	if err := s.Scrape(ctx, hashes, stats); err != nil {
		t.Fatalf("scrape with every node up: %v", err)
	}
	host, port, _ := strings.Cut(victim, ":")
	// SHUTDOWN closes the connection as the server exits.
	testenv.RedisCLI(t, host, port, "shutdown", "nosave")
	if err := s.Scrape(ctx, hashes, stats); err == nil {
		t.Fatalf("scrape with master %s down succeeded: %+v", victim, stats)
	}
}
