package offload

import (
	"testing"
	"time"
)

// twoLeechers returns a policy whose two leechers were each revealed two
// distinct pieces of four, the origin idle whenever *idle is set.
func twoLeechers(t *testing.T, idle *bool) (*Policy, []Offer, []Offer) {
	t.Helper()
	p := newPolicy(t, Config{Pieces: 4, Window: 2, LoneWindow: 2, Idle: func() bool { return *idle }})
	p.Add(1, t0)
	p.Add(2, t0)
	a := p.Bitfield(1, nil, t0)
	b := p.Bitfield(2, nil, t0)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("offers %v and %v: want two distinct pieces each", a, b)
	}
	return p, a, b
}

func TestAnIdleOriginRevealsSpreadingPiecesToALeecherWithNothingPending(t *testing.T) {
	idle := false
	p, a, b := twoLeechers(t, &idle)
	p.Have(1, a[0].Piece, t0)
	p.Have(1, a[1].Piece, t0)
	// The origin still sends peer 2 its pieces; then its uplink is idle.
	idle = true
	got := p.Have(2, b[0].Piece, t0)
	want := map[Offer]bool{{1, b[0].Piece}: true, {1, b[1].Piece}: true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] {
		t.Fatalf("idle origin revealed %v, want peer 2's pieces %v to peer 1", got, want)
	}
	if p.IdleOffers() != 2 || p.Offers() != 6 {
		t.Fatalf("idle offers %d of %d, want 2 of 6", p.IdleOffers(), p.Offers())
	}
}

func TestABusyOriginWithholdsSpreadingPieces(t *testing.T) {
	idle := false
	p, a, _ := twoLeechers(t, &idle)
	p.Have(1, a[0].Piece, t0)
	if got := p.Have(1, a[1].Piece, t0); len(got) != 0 {
		t.Fatalf("busy origin revealed %v", got)
	}
	if got := p.Tick(t0.Add(100 * time.Millisecond)); len(got) != 0 {
		t.Fatalf("busy origin revealed %v on a tick", got)
	}
	if p.IdleOffers() != 0 {
		t.Fatalf("idle offers %d while busy", p.IdleOffers())
	}
	// Peer 2 still waits for pieces from the origin: an idle uplink does
	// not make it a target, peer 1 (waiting for nothing) is.
	idle = true
	for _, o := range p.Tick(t0.Add(200 * time.Millisecond)) {
		if o.Peer != 1 {
			t.Fatalf("idle origin revealed %+v to a peer with pieces on their way", o)
		}
	}
}

func TestIdleOffersStayWithinTheirBudget(t *testing.T) {
	const pieces = 256
	for _, n := range []uint64{2, 4, 12} {
		// Always idle: the most the budget lets through. No leecher is
		// ever taken as starving, whose feeding is not an idle reveal and
		// has no budget (it sent one piece more, once in some 600 runs).
		s := newSwarmSim(t, Config{Pieces: pieces, Idle: func() bool { return true }, Stall: time.Hour, FirstStall: time.Hour}, 4, 1)
		for id := uint64(1); id <= n; id++ {
			s.join(id, true)
		}
		s.run(100000)
		fresh := s.p.Offers() - s.p.IdleOffers()
		if s.p.IdleOffers()*n > fresh {
			t.Errorf("%d leechers: %d idle offers for %d fresh ones, want at most 1 in %d", n, s.p.IdleOffers(), fresh, n)
		}
		limit := pieces + pieces/int(n)
		t.Logf("%d leechers: origin sent %.3f copies, %d idle offers", n, float64(s.originSent)/pieces, s.p.IdleOffers())
		if s.originSent > limit {
			t.Errorf("%d leechers: origin sent %d pieces, want at most %d (1 + 1/%d copies)", n, s.originSent, limit, n)
		}
	}
}

// originIdle reports whether the origin has nothing revealed left to send:
// every piece offered to a leecher it has.
func (s *swarmSim) originIdle() bool {
	for id, q := range s.offered {
		for _, i := range q {
			if !s.has[id].Has(i) {
				return false
			}
		}
	}
	return true
}

func TestTwoLeechersThatTradeSlowlyFinishSoonerWithAnIdleOrigin(t *testing.T) {
	const pieces, trials = 16, 20
	steps := map[bool]int{}
	for _, withIdle := range []bool{false, true} {
		for range trials {
			var s *swarmSim
			cfg := Config{Pieces: pieces}
			if withIdle {
				cfg.Idle = func() bool { return s.originIdle() }
			}
			s = newSwarmSim(t, cfg, 4, 1)
			s.join(1, true)
			s.join(2, true)
			steps[withIdle] += s.run(10000)
			if limit := pieces + pieces/2; s.originSent > limit {
				t.Fatalf("idle %v: origin sent %d pieces, want at most %d", withIdle, s.originSent, limit)
			}
		}
	}
	t.Logf("steps over %d runs: %d with the idle origin's help, %d without", trials, steps[true], steps[false])
	// The runs vary (the policy and the simulation walk maps), so the
	// sums are compared, with a margin no variation bridges.
	if 10*steps[true] > 9*steps[false] {
		t.Fatalf("with the idle origin's help %d steps, without %d: want at least a tenth fewer", steps[true], steps[false])
	}
}

func TestALoneLeecherGetsNoIdleOffers(t *testing.T) {
	const pieces = 64
	var s *swarmSim
	s = newSwarmSim(t, Config{Pieces: pieces, Idle: func() bool { return s.originIdle() }}, 4, 4)
	s.join(1, false)
	if steps := s.run(10000); steps > pieces/4 {
		t.Fatalf("lone leecher took %d steps, the origin's rate allows %d", steps, pieces/4)
	}
	if s.originSent != pieces || s.p.IdleOffers() != 0 {
		t.Fatalf("origin sent %d pieces with %d idle offers, want %d and none", s.originSent, s.p.IdleOffers(), pieces)
	}
}
