package offload

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newPolicy(t *testing.T, cfg Config) *Policy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigIsValidated(t *testing.T) {
	for _, cfg := range []Config{{}, {Pieces: 4, Window: -1}, {Pieces: 4, Stall: -time.Second}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestDistinctLeechersAreOfferedDistinctPieces(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 100, Window: 2})
	seen := map[uint32]uint64{}
	for id := uint64(1); id <= 10; id++ {
		p.Add(id, t0)
	}
	for id := uint64(1); id <= 10; id++ {
		offers := p.Bitfield(id, nil, t0)
		if id > 1 && len(offers) != 2 {
			t.Fatalf("peer %d offered %v, want a window of 2", id, offers)
		}
		for _, o := range offers {
			if o.Peer != id {
				t.Fatalf("offer %+v answering peer %d's bitfield", o, id)
			}
			if other, dup := seen[o.Piece]; dup {
				t.Fatalf("piece %d offered to %d and %d", o.Piece, other, id)
			}
			seen[o.Piece] = id
		}
	}
}

func TestNothingIsRevealedBeforeThePeersPiecesAreKnown(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 10, BitfieldWait: time.Second})
	p.Add(1, t0)
	if got := p.Tick(t0.Add(500 * time.Millisecond)); len(got) != 0 {
		t.Fatalf("offers %v before the bitfield wait ended", got)
	}
	if got := p.Tick(t0.Add(time.Second)); len(got) == 0 {
		t.Fatal("nothing offered to a peer that sent no bitfield within the wait")
	}
}

func TestPiecesThePeerHasAreNeverOffered(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 4, LoneWindow: 4})
	b := bitfield.New(4)
	b.Set(0)
	b.Set(2)
	p.Add(1, t0)
	for _, o := range p.Bitfield(1, b, t0) {
		if o.Piece == 0 || o.Piece == 2 {
			t.Fatalf("offered piece %d, which the peer has", o.Piece)
		}
	}
}

func TestALoneLeecherAlwaysHasPiecesOnTheirWay(t *testing.T) {
	const n = 50
	p := newPolicy(t, Config{Pieces: n, LoneWindow: 4})
	p.Add(1, t0)
	queue := p.Bitfield(1, nil, t0)
	got := map[uint32]int{}
	for len(queue) > 0 {
		o := queue[0]
		queue = append(queue[1:], p.Have(1, o.Piece, t0)...)
		got[o.Piece]++
		if len(got) < n && len(queue) == 0 {
			t.Fatalf("lone leecher has %d of %d pieces and nothing on its way", len(got), n)
		}
	}
	if len(got) != n {
		t.Fatalf("lone leecher got %d of %d pieces", len(got), n)
	}
	for i, k := range got {
		if k != 1 {
			t.Fatalf("piece %d offered %d times", i, k)
		}
	}
}

func TestPiecesSpreadingInTheSwarmAreWithheld(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 2, Window: 1, LoneWindow: 1})
	p.Add(1, t0)
	p.Add(2, t0)
	a := p.Bitfield(1, nil, t0)
	b := p.Bitfield(2, nil, t0)
	if len(a) != 1 || len(b) != 1 || a[0].Piece == b[0].Piece {
		t.Fatalf("offers %v and %v: want one distinct piece each", a, b)
	}
	// Each gets its piece; the other's piece is spreading now.
	if got := p.Have(1, a[0].Piece, t0); len(got) != 0 {
		t.Fatalf("offered %v while the other piece is on its way to peer 2", got)
	}
	if got := p.Have(2, b[0].Piece, t0); len(got) != 0 {
		t.Fatalf("offered %v although peer 1 has it", got)
	}
	if p.Spreading() != 2 {
		t.Fatalf("spreading %d, want 2 (each lacks the other's)", p.Spreading())
	}
	if c := p.Copies(); c != 1 {
		t.Fatalf("copies %v, want 1", c)
	}
}

func TestThePieceOfALeecherThatLeftIsOfferedAgain(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 2, Window: 1, LoneWindow: 1})
	p.Add(1, t0)
	p.Add(2, t0)
	a := p.Bitfield(1, nil, t0)
	b := p.Bitfield(2, nil, t0)
	p.Have(1, a[0].Piece, t0)
	p.Have(2, b[0].Piece, t0)
	got := p.Remove(1)
	if len(got) != 1 || got[0] != (Offer{2, a[0].Piece}) {
		t.Fatalf("after the only holder left: %v, want piece %d for peer 2", got, a[0].Piece)
	}
	if !p.Offered(2, a[0].Piece) || p.Offered(1, a[0].Piece) {
		t.Fatal("Offered does not follow the offers")
	}
}

func TestAStalledLeecherIsFedWhatOthersHold(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 2, Window: 1, LoneWindow: 1, Stall: 3 * time.Second, FirstStall: 3 * time.Second})
	p.Add(1, t0)
	p.Add(2, t0)
	a := p.Bitfield(1, nil, t0)
	b := p.Bitfield(2, nil, t0)
	p.Have(1, a[0].Piece, t0)
	p.Have(2, b[0].Piece, t0)
	// Peer 1 holds a piece peer 2 lacks but never uploads it.
	if got := p.Tick(t0.Add(2 * time.Second)); len(got) != 0 {
		t.Fatalf("fed %v before the stall period", got)
	}
	got := p.Tick(t0.Add(3 * time.Second))
	want := map[Offer]bool{{1, b[0].Piece}: true, {2, a[0].Piece}: true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] {
		t.Fatalf("stalled peers fed %v, want %v", got, want)
	}
	if got := p.Tick(t0.Add(4 * time.Second)); len(got) != 0 {
		t.Fatalf("fed again %v within a stall period", got)
	}
}

// swarmSim runs leechers that download the pieces revealed to them from
// the origin, and everything they lack from each other, in steps: per step
// the origin sends originRate pieces and each uploading leecher upRate.
type swarmSim struct {
	t          *testing.T
	p          *Policy
	n          uint32
	originRate int
	upRate     int
	rng        *rand.Rand
	now        time.Time
	has        map[uint64]*bitfield.Bitfield
	uploads    map[uint64]bool
	offered    map[uint64][]uint32 // revealed and not yet sent
	originSent int
}

func newSwarmSim(t *testing.T, cfg Config, originRate, upRate int) *swarmSim {
	return &swarmSim{t: t, p: newPolicy(t, cfg), n: cfg.Pieces, originRate: originRate, upRate: upRate,
		rng: rand.New(rand.NewPCG(1, 2)), now: t0,
		has: map[uint64]*bitfield.Bitfield{}, uploads: map[uint64]bool{}, offered: map[uint64][]uint32{}}
}

func (s *swarmSim) join(id uint64, uploads bool) {
	s.has[id] = bitfield.New(s.n)
	s.uploads[id] = uploads
	s.p.Add(id, s.now)
	s.apply(s.p.Bitfield(id, nil, s.now))
}

func (s *swarmSim) leave(id uint64) {
	delete(s.has, id)
	delete(s.offered, id)
	s.apply(s.p.Remove(id))
}

func (s *swarmSim) apply(offers []Offer) {
	for _, o := range offers {
		if s.has[o.Peer] == nil {
			s.t.Fatalf("offer %+v to a peer that left", o)
		}
		s.offered[o.Peer] = append(s.offered[o.Peer], o.Piece)
	}
}

func (s *swarmSim) receive(id uint64, piece uint32) {
	if s.has[id].Has(piece) {
		return
	}
	s.has[id].Set(piece)
	s.apply(s.p.Have(id, piece, s.now))
}

func (s *swarmSim) done() bool {
	for _, b := range s.has {
		if !b.All() {
			return false
		}
	}
	return true
}

// step advances 100 ms.
func (s *swarmSim) step() {
	s.now = s.now.Add(100 * time.Millisecond)
	ids := make([]uint64, 0, len(s.has))
	for id := range s.has {
		ids = append(ids, id)
	}
	s.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	// The origin serves what it revealed, round-robin over the peers.
	for budget := s.originRate; budget > 0; {
		sent := false
		for _, id := range ids {
			q := s.offered[id]
			for len(q) > 0 && s.has[id].Has(q[0]) {
				q = q[1:]
			}
			if len(q) == 0 || budget == 0 {
				s.offered[id] = q
				continue
			}
			s.offered[id] = q[1:]
			s.originSent++
			budget--
			sent = true
			s.receive(id, q[0])
		}
		if !sent {
			break
		}
	}
	// Uploading leechers serve random pieces to peers that lack them.
	for _, from := range ids {
		if !s.uploads[from] || s.has[from] == nil {
			continue
		}
		for range s.upRate {
			to := ids[s.rng.IntN(len(ids))]
			if to == from || s.has[to] == nil {
				continue
			}
			for k, start := uint32(0), s.rng.Uint32N(s.n); k < s.n; k++ {
				i := (start + k) % s.n
				if s.has[from].Has(i) && !s.has[to].Has(i) {
					s.receive(to, i)
					break
				}
			}
		}
	}
	s.apply(s.p.Tick(s.now))
}

func (s *swarmSim) run(maxSteps int) int {
	s.t.Helper()
	for k := 1; k <= maxSteps; k++ {
		s.step()
		if s.done() {
			return k
		}
	}
	s.t.Fatalf("leechers not done after %d steps; origin sent %d pieces", maxSteps, s.originSent)
	return 0
}

func TestASwarmThatUploadsTakesAboutOneCopyFromTheOrigin(t *testing.T) {
	const pieces = 256
	s := newSwarmSim(t, Config{Pieces: pieces}, 4, 4)
	for id := uint64(1); id <= 12; id++ {
		s.join(id, true)
	}
	steps := s.run(10000)
	ratio := float64(s.originSent) / pieces
	t.Logf("origin sent %.2f copies; done in %d steps (one copy at the origin's rate: %d)", ratio, steps, pieces/4)
	if ratio > 1.1 {
		t.Fatalf("origin sent %.2f copies to a swarm that uploads, want at most 1.1", ratio)
	}
}

func TestLeechersThatNeverUploadStillGetEveryPiece(t *testing.T) {
	const pieces = 64
	s := newSwarmSim(t, Config{Pieces: pieces, Stall: time.Second}, 4, 4)
	for id := uint64(1); id <= 3; id++ {
		s.join(id, false)
	}
	steps := s.run(10000)
	if s.originSent != 3*pieces {
		t.Fatalf("origin sent %d pieces to 3 leechers that never upload, want %d", s.originSent, 3*pieces)
	}
	// Three copies at the origin's rate, plus one stall period (10 steps)
	// before they are known to starve, plus a step of slack.
	if limit := 3*pieces/4 + 10 + 1; steps > limit {
		t.Fatalf("leechers that never upload took %d steps, want at most %d: not served at full speed", steps, limit)
	}
}

func TestALoneLeecherDownloadsAtTheOriginsFullRate(t *testing.T) {
	const pieces = 64
	s := newSwarmSim(t, Config{Pieces: pieces}, 4, 4)
	s.join(1, false)
	if steps := s.run(10000); steps > pieces/4 {
		t.Fatalf("lone leecher took %d steps, the origin's rate allows %d", steps, pieces/4)
	}
}

func TestTheSwarmRecoversWhenTheOnlyHolderOfPiecesLeaves(t *testing.T) {
	const pieces = 64
	s := newSwarmSim(t, Config{Pieces: pieces, Stall: time.Second}, 4, 1)
	s.join(1, true)
	s.join(2, true)
	s.join(3, true)
	for range 5 {
		s.step()
	}
	s.leave(1)
	s.run(10000)
	if s.originSent > 2*pieces {
		t.Fatalf("origin sent %d pieces to 3 leechers, want fewer than two copies", s.originSent)
	}
}

func TestALeecherTheSwarmNeverFedStarvesSooner(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 3, Window: 1, LoneWindow: 1, Stall: 3 * time.Second, FirstStall: 500 * time.Millisecond})
	for id := uint64(1); id <= 3; id++ {
		p.Add(id, t0)
	}
	two := bitfield.New(3)
	two.Set(2)
	if got := p.Bitfield(3, two, t0); len(got) != 1 {
		t.Fatalf("peer 3 offered %v, want one fresh piece", got)
	}
	a := p.Bitfield(1, nil, t0)
	if len(a) != 1 {
		t.Fatalf("peer 1 offered %v, want the last fresh piece", a)
	}
	p.Have(1, a[0].Piece, t0)
	// Peer 1 gets piece 2 from peer 3: the swarm feeds it.
	p.Have(1, 2, t0)
	p.Bitfield(2, nil, t0)
	for _, o := range p.Tick(t0.Add(500 * time.Millisecond)) {
		if o.Peer == 1 {
			t.Fatalf("peer 1, which the swarm feeds, served after the first stall period: %+v", o)
		}
	}
	if !p.peers[2].starving || p.peers[1].starving {
		t.Fatal("after the first stall period: want peer 2 (never fed) starving and peer 1 (fed) not")
	}
	p.Tick(t0.Add(3 * time.Second))
	if !p.peers[1].starving {
		t.Fatal("peer 1 not starving after the stall period")
	}
}

func TestAPieceTheOriginCannotServeIsNeverRevealed(t *testing.T) {
	servable := map[uint32]bool{0: true, 1: false, 2: true}
	p := newPolicy(t, Config{Pieces: 3, LoneWindow: 3, Stall: time.Second, FirstStall: time.Second,
		Servable: func(i uint32) bool { return servable[i] }})
	p.Add(1, t0)
	for _, o := range append(p.Bitfield(1, nil, t0), p.Tick(t0.Add(time.Hour))...) {
		if o.Piece == 1 {
			t.Fatalf("revealed piece 1, which the origin cannot serve")
		}
	}
	servable[1] = true
	if got := p.Refill(); len(got) != 1 || got[0] != (Offer{1, 1}) {
		t.Fatalf("once servable: %v, want piece 1 revealed", got)
	}
}

// A leecher waiting for pieces on their way from the origin (choked among
// many, say) is not starving: it is not given pieces others are getting.
func TestALeecherWithPiecesOnTheirWayDoesNotStarve(t *testing.T) {
	p := newPolicy(t, Config{Pieces: 4, Window: 3, LoneWindow: 3, Stall: time.Second, FirstStall: time.Second})
	p.Add(1, t0)
	p.Add(2, t0)
	if got := p.Bitfield(1, nil, t0); len(got) != 3 {
		t.Fatalf("peer 1 offered %v, want the lone window of 3", got)
	}
	if got := p.Bitfield(2, nil, t0); len(got) != 1 {
		t.Fatalf("peer 2 offered %v, want the last fresh piece", got)
	}
	if got := p.Tick(t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("offers %v to peers with pieces still on their way", got)
	}
}
