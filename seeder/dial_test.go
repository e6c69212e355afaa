package seeder

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
	"github.com/bitorigin/bitorigin/seeder/swarm"
)

// The old dialler reset the attempts of a candidate a tracker named again
// while it was being dialled, so the next tick dialled it a second time.
func TestACandidateNamedAgainWhileDialledIsNotDialledTwice(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, _ := serveTest(t, Config{HandshakeTimeout: time.Minute}, tor)
	// A peer that accepts and never answers the handshake keeps the dial
	// under way.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 10)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(accepted)
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- nc
		}
	})
	defer func() {
		ln.Close()
		wg.Wait()
		for nc := range accepted {
			nc.Close()
		}
	}()
	peer := netip.MustParseAddrPort(ln.Addr().String())
	sw := s.list[0]
	s.addCandidates(sw, []netip.AddrPort{peer})
	select {
	case nc := <-accepted:
		defer nc.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the candidate was not dialled")
	}
	s.addCandidates(sw, []netip.AddrPort{peer}) // the next announce
	s.mu.Lock()
	s.dialDue(time.Now().Add(time.Hour))
	s.mu.Unlock()
	dials, _ := sw.swarm.Dials()
	if dials != 1 {
		t.Fatalf("%d dials to one peer, want 1", dials)
	}
}

// The old dialler kept every address trackers returned while it could not
// dial (at its connection limit).
func TestCandidatesAreBoundedAtTheConnectionLimit(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, addr := serveTest(t, Config{MaxConns: 1, HandshakeTimeout: time.Minute}, tor)
	dialFrom(t, "127.0.0.1", addr) // holds the only slot
	waitUntil(t, "the seeder to accept it", func() bool { return handshakes(s) == 1 })
	sw := s.list[0]
	for i := range 50 {
		var peers []netip.AddrPort
		for j := range 200 {
			peers = append(peers, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(j), 1}), 6881))
		}
		s.addCandidates(sw, peers)
	}
	dials, n := sw.swarm.Dials()
	if n > swarm.MaxCandidates || dials != 0 {
		t.Fatalf("%d candidates kept and %d dials at the limit; want at most %d and none", n, dials, swarm.MaxCandidates)
	}
}
