package memstore

import (
	"context"
	"runtime"
	"testing"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

// BenchmarkMemoryPerPeer reports the heap the store holds per peer, with
// 200,000 IPv4 peers spread over 1,000 torrents (200 per swarm).
func BenchmarkMemoryPerPeer(b *testing.B) {
	const peers, torrents = 200_000, 1000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := New(Config{})
		if err != nil {
			b.Fatal(err)
		}
		var out tracker.SwarmAnswer
		for n := range peers {
			pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(n % torrents), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: n%3 == 0}
			if err := s.Announce(context.Background(), pa, &out); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/peers, "bytes/peer")
		runtime.KeepAlive(s)
		s.Close()
	}
}

// BenchmarkStoreAnnounce is one re-announce into a swarm of 1,000 peers,
// asking for 50: the store's share of an HTTP announce.
func BenchmarkStoreAnnounce(b *testing.B) {
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := storetest.Hash(1)
	var out tracker.SwarmAnswer
	for n := range 1000 {
		pa := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: n%4 == 0, NumWant: 50}
		out.Reset()
		if err := s.Announce(context.Background(), pa, &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n := i % 1000
		pa := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: n%4 == 0, NumWant: 50}
		out.Reset()
		if err := s.Announce(context.Background(), pa, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreAnnounceKeyed is BenchmarkStoreAnnounce with peers that send
// a key, over one family (ipv4) or both (dual: every peer announces over
// IPv4 and over IPv6, so every announce finds its other half).
func BenchmarkStoreAnnounceKeyed(b *testing.B) {
	for _, dual := range []bool{false, true} {
		name := "ipv4"
		if dual {
			name = "dual"
		}
		b.Run(name, func(b *testing.B) {
			s, err := New(Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			h := storetest.Hash(1)
			var out tracker.SwarmAnswer
			pa := func(i int) tracker.PeerAnnounce {
				n := i % 1000
				p := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(n), Key: storetest.Key(n), Addr: storetest.Addr4(n), Seeder: n%4 == 0, NumWant: 50}
				if dual && i/1000%2 == 1 {
					p.Addr = storetest.Addr6(n)
				}
				return p
			}
			for i := range 2000 {
				out.Reset()
				if err := s.Announce(context.Background(), pa(i), &out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				out.Reset()
				if err := s.Announce(context.Background(), pa(i), &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
