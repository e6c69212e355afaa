package choker

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newChoker(t *testing.T, cfg Config) *Choker {
	t.Helper()
	c, err := New(cfg, func(n int) int { return n - 1 }) // "random": the last waiting peer
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func unchoked(c *Choker) []uint64 {
	var ids []uint64
	for id := range c.peers {
		if c.Unchoked(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestInterestedPeersAreUnchokedAtOnceWhileSlotsAreFree(t *testing.T) {
	c := newChoker(t, Config{Slots: 2})
	for id := uint64(1); id <= 4; id++ {
		c.Add(id)
	}
	if d := c.SetInterested(1, true, t0); !slices.Equal(d, []Decision{{1, true}}) {
		t.Fatalf("first interested peer: %v", d)
	}
	c.SetInterested(2, true, t0.Add(time.Second))
	// Third: regular slots are full, so it gets the optimistic one.
	if d := c.SetInterested(3, true, t0.Add(2*time.Second)); !slices.Equal(d, []Decision{{3, true}}) {
		t.Fatalf("third interested peer: %v", d)
	}
	if d := c.SetInterested(4, true, t0.Add(3*time.Second)); len(d) != 0 {
		t.Fatalf("fourth peer got a slot although all are taken: %v", d)
	}
	if got := unchoked(c); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("unchoked %v", got)
	}
	// Losing interest frees the slot for the peer that waits.
	if d := c.SetInterested(1, false, t0.Add(4*time.Second)); !slices.Equal(d, []Decision{{1, false}, {4, true}}) {
		t.Fatalf("peer 1 not interested: %v", d)
	}
	// A closed connection frees its slot too; nobody waits now.
	if d := c.Remove(2, t0.Add(5*time.Second)); len(d) != 0 {
		t.Fatalf("remove with nobody waiting: %v", d)
	}
	if got := unchoked(c); !slices.Equal(got, []uint64{3, 4}) {
		t.Fatalf("unchoked %v", got)
	}
}

func TestSlotsRotateRoundRobinSoEveryPeerIsServed(t *testing.T) {
	c := newChoker(t, Config{Slots: 2, NoOptimistic: true, Term: 30 * time.Second})
	const n = 6
	for id := uint64(1); id <= n; id++ {
		c.Add(id)
		c.SetInterested(id, true, t0.Add(time.Duration(id)*time.Millisecond))
	}
	served := map[uint64]int{}
	now := t0
	for round := range 30 {
		now = now.Add(10 * time.Second)
		c.Rechoke(now)
		got := unchoked(c)
		if len(got) != 2 {
			t.Fatalf("round %d: %d peers unchoked, want 2: %v", round, len(got), got)
		}
		for _, id := range got {
			served[id]++
		}
	}
	// 30 rounds x 2 slots = 60 slot-rounds over 6 peers: 10 each, give or
	// take one term of 3 rounds.
	for id := uint64(1); id <= n; id++ {
		if served[id] < 7 || served[id] > 13 {
			t.Fatalf("peer %d served %d rounds of 30: not round-robin (%v)", id, served[id], served)
		}
	}
}

func TestNoRotationWhileEveryInterestedPeerFits(t *testing.T) {
	c := newChoker(t, Config{Slots: 3})
	for id := uint64(1); id <= 3; id++ {
		c.Add(id)
		c.SetInterested(id, true, t0)
	}
	for i := 1; i <= 20; i++ {
		if d := c.Rechoke(t0.Add(time.Duration(i) * 10 * time.Second)); len(d) != 0 {
			t.Fatalf("rechoke %d changed slots with nobody waiting: %v", i, d)
		}
	}
}

func TestOptimisticSlotMovesToAWaitingPeer(t *testing.T) {
	c := newChoker(t, Config{Slots: 1, Term: time.Hour, OptimisticTerm: 30 * time.Second})
	for id := uint64(1); id <= 4; id++ {
		c.Add(id)
		c.SetInterested(id, true, t0.Add(time.Duration(id)*time.Second))
	}
	// 1 regular, 2 optimistic, 3 and 4 wait.
	if got := unchoked(c); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("unchoked %v", got)
	}
	if d := c.Rechoke(t0.Add(20 * time.Second)); len(d) != 0 {
		t.Fatalf("optimistic slot moved before its term: %v", d)
	}
	d := c.Rechoke(t0.Add(40 * time.Second))
	// The fake rand picks the last waiting peer: 4.
	if !slices.Equal(d, []Decision{{2, false}, {4, true}}) {
		t.Fatalf("after the optimistic term: %v", d)
	}
	if got := unchoked(c); !slices.Equal(got, []uint64{1, 4}) {
		t.Fatalf("unchoked %v", got)
	}
}

func TestNewRejectsZeroSlots(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Fatal("zero slots accepted")
	}
}
