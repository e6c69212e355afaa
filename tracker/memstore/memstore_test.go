package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

func newTestStore(t *testing.T, lifetime time.Duration, clock *storetest.Clock) *Store {
	t.Helper()
	s, err := New(Config{PeerLifetime: lifetime, Now: clock.Now, Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, lifetime time.Duration, clock *storetest.Clock) tracker.Store {
		return newTestStore(t, lifetime, clock)
	})
}

func TestJanitorForgetsAbandonedSwarms(t *testing.T) {
	clock := storetest.NewClock()
	s := newTestStore(t, storetest.Lifetime, clock)
	var out tracker.SwarmAnswer
	for n := range 10 {
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(n), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), NumWant: 50}
		if err := s.Announce(context.Background(), pa, &out); err != nil {
			t.Fatal(err)
		}
	}
	if c := s.Counts(); c.Torrents != 10 || c.Leechers() != 10 || c.Peers[leechers4] != 10 {
		t.Fatalf("before expiry: %+v", c)
	}
	clock.Advance(2 * storetest.Lifetime)
	s.SweepAll()
	if c := s.Counts(); c != (Counts{}) {
		t.Fatalf("after expiry: %+v", c)
	}
	var total int
	for i := range s.shards {
		total += len(s.shards[i].swarms)
	}
	if total != 0 {
		t.Fatalf("%d empty swarms kept in memory", total)
	}
}

func TestSwarmWithDownloadsIsKeptForRetention(t *testing.T) {
	clock := storetest.NewClock()
	s := newTestStore(t, storetest.Lifetime, clock)
	h := storetest.Hash(1)
	var out tracker.SwarmAnswer
	pa := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(1), Addr: storetest.Addr4(1), Event: tracker.EventCompleted, Seeder: true}
	if err := s.Announce(context.Background(), pa, &out); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * storetest.Lifetime)
	s.SweepAll()
	st := make([]tracker.ScrapeStats, 1)
	if err := s.Scrape(context.Background(), []tracker.InfoHash{h}, st); err != nil {
		t.Fatal(err)
	}
	if st[0] != (tracker.ScrapeStats{Downloaded: 1}) {
		t.Fatalf("after peers expired: %+v, want only the download count", st[0])
	}
	clock.Advance(25 * time.Hour)
	s.SweepAll()
	if err := s.Scrape(context.Background(), []tracker.InfoHash{h}, st); err != nil {
		t.Fatal(err)
	}
	if st[0] != (tracker.ScrapeStats{}) {
		t.Fatalf("after retention: %+v, want forgotten", st[0])
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{PeerLifetime: time.Millisecond}, {Shards: -1}, {Shards: 1 << 20}} {
		if s, err := New(cfg); err == nil {
			s.Close()
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}
