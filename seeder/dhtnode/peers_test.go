package dhtnode

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
)

func TestPeerStoreKeepsPeersThatShareAnIP(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPeerStore(func([20]byte) (netip.AddrPort, bool) { return netip.AddrPort{}, false }, func() time.Time { return now })
	h := [20]byte{1}
	p.AddPeer(h, krpc.NodeAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1})
	p.AddPeer(h, krpc.NodeAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2})
	p.AddPeer(h, krpc.NodeAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2})
	if got := len(p.GetPeers(h)); got != 2 || p.len() != 2 {
		t.Fatalf("%d peers (len %d), want 2", got, p.len())
	}
	now = now.Add(peerTTL + time.Second)
	if got := p.GetPeers(h); len(got) != 0 {
		t.Fatalf("expired peers returned: %v", got)
	}
}

func TestPeerStoreIsBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPeerStore(func([20]byte) (netip.AddrPort, bool) { return netip.AddrPort{}, false }, func() time.Time { return now })
	h := [20]byte{1}
	for i := range maxPeersPerHash + 10 {
		now = now.Add(time.Millisecond)
		p.AddPeer(h, krpc.NodeAddr{IP: net.IPv4(10, 0, byte(i>>8), byte(i)), Port: 1})
	}
	if p.len() != maxPeersPerHash {
		t.Fatalf("%d peers stored, want %d", p.len(), maxPeersPerHash)
	}
	if got := len(p.GetPeers(h)); got != maxValues {
		t.Fatalf("%d values, want %d", got, maxValues)
	}
	for i := range maxInfoHashes + 5 {
		p.AddPeer([20]byte{2, byte(i >> 16), byte(i >> 8), byte(i)}, krpc.NodeAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1})
	}
	if len(p.peers) != maxInfoHashes {
		t.Fatalf("%d info hashes, want %d", len(p.peers), maxInfoHashes)
	}
}

func TestPeerStoreGivesTheSeederFirst(t *testing.T) {
	self := netip.MustParseAddrPort("192.0.2.1:6881")
	p := newPeerStore(func(h [20]byte) (netip.AddrPort, bool) { return self, h == [20]byte{1} }, time.Now)
	h := [20]byte{1}
	for i := range maxValues + 5 {
		p.AddPeer(h, krpc.NodeAddr{IP: net.IPv4(10, 0, 0, byte(i)), Port: 1})
	}
	// The seeder announcing itself to us is not given twice.
	p.AddPeer(h, krpc.NodeAddr{IP: net.IPv4(192, 0, 2, 1), Port: 6881})
	got := p.GetPeers(h)
	if len(got) != maxValues || !got[0].IP.Equal(net.IPv4(192, 0, 2, 1)) || got[0].Port != 6881 {
		t.Fatalf("values %v: want %d starting with the seeder", got, maxValues)
	}
	for _, v := range got[1:] {
		if v.Port == 6881 {
			t.Fatalf("the seeder given twice: %v", got)
		}
	}
}

func TestIPLimiterAllowsABurstThenTheRate(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newIPLimiter(2, 8, func() time.Time { return now })
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	n := 0
	for l.allow(a) {
		n++
	}
	if n != 8 {
		t.Fatalf("burst of %d, want 8", n)
	}
	if !l.allow(b) {
		t.Fatal("another IP limited by the first one's queries")
	}
	now = now.Add(time.Second)
	n = 0
	for l.allow(a) {
		n++
	}
	if n != 2 {
		t.Fatalf("%d more after a second, want 2", n)
	}
}

func TestIPLimiterForgetsIdleSourcesWhenFull(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newIPLimiter(1, 4, func() time.Time { return now })
	for i := range maxTrackedIPs {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	newcomer := netip.MustParseAddr("192.0.2.1")
	if l.allow(newcomer) {
		t.Fatal("a new source allowed while every tracked one is busy")
	}
	now = now.Add(10 * time.Second)
	if !l.allow(newcomer) {
		t.Fatal("a new source refused once the others went idle")
	}
	if len(l.buckets) != 1 {
		t.Fatalf("%d sources tracked, want 1", len(l.buckets))
	}
}
