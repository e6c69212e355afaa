package seeder

import (
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// A peer toggling its interest 100,000 times must not run the choker
// 100,000 times under the choker's lock; its last word still counts.
func TestInterestTogglingIsPacedAndTheLastStateWins(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, addr := serveTest(t, Config{}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.Extended](p)
	p.send(&peerwire.ExtensionHandshake{M: map[string]uint8{peerwire.MetadataExtension: 7}})
	var b []byte
	for range 50000 {
		b = peerwire.Interested{}.AppendTo(b)
		b = peerwire.NotInterested{}.AppendTo(b)
	}
	// Answered only once every toggle before it has been handled.
	b = peerwire.MetadataRequest{ExtID: peer.MetadataID, Piece: 0}.AppendTo(b)
	start := time.Now()
	if _, err := p.nc.Write(b); err != nil {
		t.Fatal(err)
	}
	for waitFor[*peerwire.Extended](p).ExtID != 7 {
		// Not the metadata answer yet.
	}
	c := onlyConn(t, s)
	waitUntil(t, "the held-back change to be applied", func() bool {
		return !c.InterestHeld()
	})
	elapsed := time.Since(start)
	s.slots.mu.Lock()
	runs, unchoked := s.slots.interestUpdates, s.slots.choker.Unchoked(c.ID())
	s.slots.mu.Unlock()
	if unchoked {
		t.Fatal("the last word was not interested, yet the peer holds a slot")
	}
	// One at once, then at most one per interval.
	if max := 2 + int(elapsed/peer.InterestInterval); runs > max {
		t.Fatalf("100,000 changes of interest in %s ran the choker %d times, want at most %d", elapsed, runs, max)
	}
	t.Logf("100,000 changes of interest in %s: %d choker runs", elapsed, runs)
	p.send(&peerwire.Interested{})
	waitUntil(t, "the peer to be unchoked once interested again", func() bool {
		s.slots.mu.Lock()
		defer s.slots.mu.Unlock()
		return s.slots.choker.Unchoked(c.ID())
	})
}

// A change held back by the pacer is applied even when the peer says
// nothing more: a peer that loses interest just after gaining it gives
// its slot up.
func TestHeldBackChangeOfInterestIsAppliedWhenThePeerFallsSilent(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, addr := serveTest(t, Config{UploadSlots: 1}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	p.send(&peerwire.NotInterested{}, &peerwire.Interested{}, &peerwire.NotInterested{})
	waitFor[*peerwire.Choke](p)
	s.slots.mu.Lock()
	unchoked := false
	for id := range s.slots.conns {
		unchoked = unchoked || s.slots.choker.Unchoked(id)
	}
	s.slots.mu.Unlock()
	if unchoked {
		t.Fatal("a peer no longer interested keeps its slot")
	}
}

// onlyConn is the seeder's one registered connection.
func onlyConn(t *testing.T, s *Seeder) *peer.Conn {
	t.Helper()
	s.slots.mu.Lock()
	defer s.slots.mu.Unlock()
	if len(s.slots.conns) != 1 {
		t.Fatalf("%d connections, want 1", len(s.slots.conns))
	}
	for _, c := range s.slots.conns {
		return c
	}
	return nil
}
