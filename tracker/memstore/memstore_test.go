package memstore

import (
	"context"
	"net/netip"
	"testing"
	"time"
	"unsafe"

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

func TestCapsBoundTorrentsAndPeers(t *testing.T) {
	clock := storetest.NewClock()
	s, err := New(Config{PeerLifetime: storetest.Lifetime, Now: clock.Now, Shards: 4, MaxTorrents: 3, MaxPeers: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	announce := func(h, n int, ev tracker.Event) (tracker.SwarmAnswer, error) {
		var out tracker.SwarmAnswer
		err := s.Announce(ctx, tracker.PeerAnnounce{InfoHash: storetest.Hash(h), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: true, Event: ev, NumWant: 50}, &out)
		return out, err
	}
	for h := range 3 {
		if _, err := announce(h, h, tracker.EventStarted); err != nil {
			t.Fatal(err)
		}
	}
	// A fourth torrent is refused with a reason the client can show.
	if _, err := announce(9, 9, tracker.EventStarted); err != tracker.ErrTrackerFull {
		t.Fatalf("fourth torrent: %v, want ErrTrackerFull", err)
	}
	// Known torrents still take peers, up to the peer cap (5 in all).
	for n := 10; n < 12; n++ {
		if out, err := announce(0, n, tracker.EventStarted); err != nil || out.Seeders != n-8 {
			t.Fatalf("peer %d: %+v %v", n, out, err)
		}
	}
	// Past the cap a new peer is answered, with the others, but not kept.
	out, err := announce(0, 20, tracker.EventStarted)
	if err != nil || out.Seeders != 3 {
		t.Fatalf("peer past the cap: %+v %v", out, err)
	}
	if c := s.Counts(); c.Torrents != 3 || c.Seeders() != 5 {
		t.Fatalf("counts %+v", c)
	}
	// Room comes back as peers leave and swarms expire.
	if _, err := announce(1, 1, tracker.EventStopped); err != nil {
		t.Fatal(err)
	}
	if _, err := announce(9, 9, tracker.EventStarted); err != nil {
		t.Fatalf("after a swarm emptied: %v", err)
	}
	clock.Advance(3 * storetest.Lifetime)
	s.SweepAll()
	if s.torrents.Load() != 0 || s.peers.Load() != 0 {
		t.Fatalf("totals after expiry: %d torrents, %d peers", s.torrents.Load(), s.peers.Load())
	}
}

func TestAnnouncerPastThePeerCapGetsAtMostNumWant(t *testing.T) {
	// A peer that is not stored has no place in any list; it must not be
	// mistaken for one, in either family or role, or the store skips no
	// one and answers one peer more than asked.
	for _, c := range []struct {
		name   string
		addr   func(int) netip.AddrPort
		seeder bool
	}{
		{"IPv4 leecher", storetest.Addr4, false},
		{"IPv4 seeder", storetest.Addr4, true},
		{"IPv6 leecher", storetest.Addr6, false},
		{"IPv6 seeder", storetest.Addr6, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			const stored = 4
			s, err := New(Config{PeerLifetime: storetest.Lifetime, Now: storetest.NewClock().Now, Shards: 1, MaxPeers: stored})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			h := storetest.Hash(1)
			var out tracker.SwarmAnswer
			for n := range stored {
				// Leechers, which both seeders and leechers are sent.
				pa := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(n), Addr: c.addr(n), NumWant: 50}
				if err := s.Announce(context.Background(), pa, &out); err != nil {
					t.Fatal(err)
				}
			}
			for want := 1; want <= stored; want++ {
				out = tracker.SwarmAnswer{}
				pa := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(99), Addr: c.addr(99), Seeder: c.seeder, NumWant: want}
				if err := s.Announce(context.Background(), pa, &out); err != nil {
					t.Fatal(err)
				}
				size := tracker.CompactSize(pa.Addr.Addr())
				if got := len(out.Peers) / size; got != want {
					t.Errorf("numwant %d: %d peers", want, got)
				}
			}
			if c := s.Counts(); c.Seeders()+c.Leechers() != stored {
				t.Fatalf("counts %+v: the announcer past the cap was stored", c)
			}
		})
	}
}

func TestPeerEntryKeepsItsSize(t *testing.T) {
	// --max-peers is documented in bytes per peer. A dual-stack peer's
	// two entries are one peer only when they came with the same key, so
	// each entry keeps its key; a whole key would make the entry 48
	// bytes. So the done mark takes seen's top bit and the key is kept as
	// a 16-bit tag in the 2 bytes the mark and its padding took: the entry
	// stays at 44. A tag guessed by a forger pairs only its own entry with
	// the other family's (see peer.tag), so 16 bits are enough.
	if n := unsafe.Sizeof(peer{}); n != 44 {
		t.Fatalf("a peer entry takes %d bytes, want 44", n)
	}
}

func TestLinkKeysNeverTakeAnAddressKey(t *testing.T) {
	// A link key has zero port bytes in both layouts, which no stored
	// address has.
	for _, fam := range []int{0, 1} {
		k := linkKey(storetest.ID(1), fam)
		if k.addr[4] != 0 || k.addr[5] != 0 || k.addr[16] != 0 || k.addr[17] != 0 {
			t.Fatalf("link key %x has port bytes", k.addr)
		}
	}
	if keyTag(0x10000) == 0 || keyTag(0) == 0 {
		t.Fatal("a tag of 0 would stand for no key")
	}
}

func TestDualStackPairsFollowTheRoles(t *testing.T) {
	// The pair counters of the memory store through every move of both
	// halves, checked against the counts a walk of the lists gives.
	clock := storetest.NewClock()
	s := newTestStore(t, storetest.Lifetime, clock)
	h := storetest.Hash(1)
	ctx := context.Background()
	var out tracker.SwarmAnswer
	for i := range 2000 {
		n := i % 7
		pa := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(n), Key: storetest.Key(n), Seeder: (i/7)%3 == 0, NumWant: 5}
		pa.Addr = storetest.Addr4(n)
		if (i/3)%2 == 1 {
			pa.Addr = storetest.Addr6(n)
		}
		if i%11 == 0 {
			pa.Event = tracker.EventStopped
		}
		out.Reset()
		if err := s.Announce(ctx, pa, &out); err != nil {
			t.Fatal(err)
		}
		sw := s.shardOf(h).swarms[h]
		if sw == nil {
			continue
		}
		// Recount: a peer (by ID) is a seeder when any of its entries is.
		role := map[tracker.PeerID]bool{}
		for l, ps := range sw.lists {
			for _, p := range ps {
				role[p.key.id] = role[p.key.id] || isSeederList(l)
			}
		}
		var seeders, leechers int
		for _, sd := range role {
			if sd {
				seeders++
			} else {
				leechers++
			}
		}
		if sw.seeders() != seeders || sw.leechers() != leechers || out.Seeders != seeders || out.Leechers != leechers {
			t.Fatalf("announce %d: counted %d/%d, answered %d/%d, lists hold %d/%d", i, sw.seeders(), sw.leechers(), out.Seeders, out.Leechers, seeders, leechers)
		}
	}
}
