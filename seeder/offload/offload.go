// Package offload decides which pieces an origin seed reveals to each
// leecher of one torrent, so that the swarm, not the origin, carries the
// release: about one copy leaves the origin however many peers download.
//
// The origin does not announce that it has every piece. It tells each
// leecher of a few pieces at a time (have messages), choosing pieces that
// no connected peer holds and that are not on their way to another one, so
// distinct leechers get distinct pieces and fetch the rest from each
// other. A piece is revealed again only when the swarm has no other source
// for it: its holders left, or a leecher with nothing on its way from the
// origin has gained nothing for the stall period (the peers holding what it
// lacks do not upload, or choke it). Such a starving leecher is then served
// like a lone one, at full speed, until it gains a piece the origin did not
// reveal to it: proof that the swarm feeds it again. A lone leecher always
// has pieces on their way from the origin, so it downloads at full speed.
// BEP 16 (super seeding) is the ancestor of this design; unlike it, the
// next piece is revealed as soon as the leecher has the last one, not when
// a second peer has it, so the origin never waits.
//
// Withholding costs time when the origin's uplink has nothing to do: a
// leecher that got its distinct pieces waits for the others' pieces, which
// clients trade slowly at first. So while the origin is idle (Config.Idle),
// a leecher with nothing on its way from the origin is given the least
// held pieces it lacks even though they are spreading, within a budget
// that keeps the origin near one copy (see idleFill).
//
// The Policy is pure logic, like package choker: it is told about peers,
// their pieces and time, and answers with offers for the caller to send as
// have messages. It is not safe for concurrent use.
package offload

import (
	"fmt"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
)

// Config tunes a Policy.
type Config struct {
	// Pieces is the torrent's piece count; at least 1.
	Pieces uint32
	// Window is how many revealed pieces a leecher may be missing at once
	// when other leechers are connected; DefaultWindow when 0.
	Window int
	// LoneWindow is that number for a leecher alone with the origin,
	// which must not wait between pieces; DefaultLoneWindow when 0.
	LoneWindow int
	// Stall is how long a leecher with nothing on its way from the origin
	// may gain no piece, from anyone, before pieces that others hold are
	// revealed to it; DefaultStall when 0.
	Stall time.Duration
	// FirstStall is that time for a leecher that never gained a piece
	// the origin did not reveal to it: nothing shows yet that the swarm
	// can feed it (its peers may not have found it), so it waits less;
	// DefaultFirstStall when 0.
	FirstStall time.Duration
	// BitfieldWait is how long a new peer has to send its bitfield before
	// it is taken to have nothing; DefaultBitfieldWait when 0.
	BitfieldWait time.Duration
	// Servable, when set, reports whether the origin can serve a piece
	// now (it passed verification and its files did not change since); a
	// piece it cannot serve is never revealed. Nil means every piece.
	Servable func(piece uint32) bool
	// Idle, when set, reports whether the origin's uplink is idle now: no
	// connection (of any torrent: the uplink is the seeder's) has requests
	// waiting or blocks being sent. Then pieces that are spreading are revealed too (idleFill).
	// Nil means never idle.
	Idle func() bool
}

// Defaults of Config.
const (
	DefaultWindow       = 2
	DefaultLoneWindow   = 3
	DefaultStall        = 3 * time.Second
	DefaultFirstStall   = 500 * time.Millisecond
	DefaultBitfieldWait = time.Second
)

// Offer tells the caller to reveal a piece to a peer: a have message.
type Offer struct {
	Peer  uint64
	Piece uint32
}

// peer is the Policy's view of one connected leecher.
type peer struct {
	joined time.Time
	// has is what the peer holds; nil until its bitfield (or the lack of
	// one) is known.
	has *bitfield.Bitfield
	// offered is what was revealed to it; pending counts the offered
	// pieces it does not have yet.
	offered *bitfield.Bitfield
	pending int
	// gained is when it last gained a piece (or joined).
	gained time.Time
	// starving is set when it gained nothing for the stall period, and
	// cleared when it gains a piece the origin did not reveal to it.
	starving bool
	// fed is set once it gained a piece the origin did not reveal to it.
	fed bool
}

// Policy is the offload state of one torrent.
type Policy struct {
	cfg   Config
	peers map[uint64]*peer
	// holders counts, per piece, the connected peers that have it;
	// pending the peers it was revealed to that do not have it yet.
	holders []int32
	pending []int32
	// leechers counts the known peers that lack a piece.
	leechers int
	// cursor is where the search for a fresh piece starts, so offers
	// sweep the torrent instead of piling onto its first pieces.
	cursor uint32
	// offers counts the pieces revealed, over the Policy's life;
	// freshOffers those that were fresh, idleOffers those revealed because
	// the origin was idle although they were spreading (idleFill).
	offers, freshOffers, idleOffers uint64
}

// New returns a Policy for a torrent of cfg.Pieces pieces.
func New(cfg Config) (*Policy, error) {
	if cfg.Pieces == 0 {
		return nil, fmt.Errorf("offload: a torrent of %d pieces", cfg.Pieces)
	}
	if cfg.Window < 0 || cfg.LoneWindow < 0 || cfg.Stall < 0 || cfg.FirstStall < 0 || cfg.BitfieldWait < 0 {
		return nil, fmt.Errorf("offload: window %d, lone window %d, stall %s, first stall %s, bitfield wait %s: must not be negative",
			cfg.Window, cfg.LoneWindow, cfg.Stall, cfg.FirstStall, cfg.BitfieldWait)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.LoneWindow == 0 {
		cfg.LoneWindow = DefaultLoneWindow
	}
	if cfg.Stall == 0 {
		cfg.Stall = DefaultStall
	}
	if cfg.FirstStall == 0 {
		cfg.FirstStall = min(DefaultFirstStall, cfg.Stall)
	}
	if cfg.BitfieldWait == 0 {
		cfg.BitfieldWait = DefaultBitfieldWait
	}
	return &Policy{
		cfg:     cfg,
		peers:   make(map[uint64]*peer),
		holders: make([]int32, cfg.Pieces),
		pending: make([]int32, cfg.Pieces),
	}, nil
}

// Add starts tracking a connected peer. Nothing is revealed to it until
// its pieces are known: Bitfield, or BitfieldWait without one.
func (p *Policy) Add(id uint64, now time.Time) {
	if _, ok := p.peers[id]; ok {
		return
	}
	p.peers[id] = &peer{joined: now, gained: now, offered: bitfield.New(p.cfg.Pieces)}
}

// Remove forgets a peer that left. Pieces only it had, or that were on
// their way to it, become fresh again and go to the others.
func (p *Policy) Remove(id uint64) []Offer {
	pr, ok := p.peers[id]
	if !ok {
		return nil
	}
	delete(p.peers, id)
	if pr.has == nil {
		return nil
	}
	for i := range p.cfg.Pieces {
		switch {
		case pr.has.Has(i):
			p.holders[i]--
		case pr.offered.Has(i):
			p.pending[i]--
		}
	}
	if !pr.has.All() {
		p.leechers--
	}
	return p.idleFill(p.fillAll(nil))
}

// Bitfield records the pieces a peer has (its bitfield message; an empty
// one for have none or no bitfield at all) and answers with what to reveal
// to it. Later calls for the same peer are ignored: have messages follow.
func (p *Policy) Bitfield(id uint64, has *bitfield.Bitfield, now time.Time) []Offer {
	pr, ok := p.peers[id]
	if !ok || pr.has != nil {
		return nil
	}
	if has == nil || has.Len() != p.cfg.Pieces {
		has = bitfield.New(p.cfg.Pieces)
	}
	pr.has = bitfield.New(p.cfg.Pieces)
	for i := range p.cfg.Pieces {
		if has.Has(i) {
			pr.has.Set(i)
			p.holders[i]++
		}
	}
	if !pr.has.All() {
		p.leechers++
	}
	// A second leecher ends the first one's lone window: nothing to take
	// back, its offers simply stop being topped up past Window.
	return p.idleFill(p.fill(nil, id, pr))
}

// Have records that a peer now has a piece (its have message) and answers
// with what to reveal next, to it and, when it was the last piece it
// lacked, to the others.
func (p *Policy) Have(id uint64, piece uint32, now time.Time) []Offer {
	pr, ok := p.peers[id]
	if !ok || piece >= p.cfg.Pieces {
		return nil
	}
	if pr.has == nil {
		// A have before any bitfield: the peer had nothing before it.
		p.Bitfield(id, nil, now)
	}
	if pr.has.Has(piece) {
		return nil
	}
	pr.has.Set(piece)
	p.holders[piece]++
	pr.gained = now
	if pr.offered.Has(piece) {
		pr.pending--
		p.pending[piece]--
	} else {
		pr.starving, pr.fed = false, true
	}
	var out []Offer
	if pr.has.All() {
		p.leechers--
	} else {
		out = p.fill(out, id, pr)
	}
	// The origin may just have sent this peer the last piece it had
	// waiting: then its uplink may be idle.
	return p.idleFill(out)
}

// Tick takes the peers whose bitfield never came as having nothing, and
// reveals pieces others hold to leechers that gained nothing for the
// stall period.
func (p *Policy) Tick(now time.Time) []Offer {
	var out []Offer
	for id, pr := range p.peers {
		if pr.has == nil {
			if now.Sub(pr.joined) >= p.cfg.BitfieldWait {
				out = append(out, p.Bitfield(id, nil, now)...)
			}
			continue
		}
		stall := p.cfg.Stall
		if !pr.fed {
			stall = p.cfg.FirstStall
		}
		// Pieces on their way from the origin are food: a peer waits for
		// them (it may be choked for a while among many) rather than
		// starve and be given what others hold.
		if pr.starving || pr.pending > 0 || pr.has.All() || now.Sub(pr.gained) < stall {
			continue
		}
		pr.starving = true
		out = p.fill(out, id, pr)
	}
	return p.idleFill(out)
}

// Refill tops every leecher up, as when pieces the origin could not serve
// are servable again.
func (p *Policy) Refill() []Offer { return p.idleFill(p.fillAll(nil)) }

// servable reports whether piece i may be revealed.
func (p *Policy) servable(i uint32) bool { return p.cfg.Servable == nil || p.cfg.Servable(i) }

// Offered reports whether piece was revealed to peer id.
func (p *Policy) Offered(id uint64, piece uint32) bool {
	pr, ok := p.peers[id]
	return ok && piece < p.cfg.Pieces && pr.offered.Has(piece)
}

// Offers is the number of pieces revealed over the Policy's life.
func (p *Policy) Offers() uint64 { return p.offers }

// IdleOffers is the number of those pieces revealed because the origin's
// uplink was idle, although they were spreading in the swarm.
func (p *Policy) IdleOffers() uint64 { return p.idleOffers }

// Copies is the number of full copies the connected peers hold among
// them: the fewest holders of any piece, plus the share of pieces held
// more often than that (libtorrent's "distributed copies").
func (p *Policy) Copies() float64 {
	low := p.holders[0]
	for _, h := range p.holders {
		low = min(low, h)
	}
	above := 0
	for _, h := range p.holders {
		if h > low {
			above++
		}
	}
	return float64(low) + float64(above)/float64(len(p.holders))
}

// Spreading is the number of pieces that connected leechers lack and that
// the origin withholds from them because another peer has them (or they
// are on their way to one): what the swarm is carrying instead.
func (p *Policy) Spreading() int {
	n := 0
	for _, pr := range p.peers {
		if pr.has == nil {
			continue
		}
		for i := range p.cfg.Pieces {
			if !pr.has.Has(i) && !pr.offered.Has(i) && p.holders[i]+p.pending[i] > 0 {
				n++
			}
		}
	}
	return n
}

// window is how many revealed pieces pr may lack at once.
func (p *Policy) window(pr *peer) int {
	if p.leechers <= 1 || pr.starving {
		return p.cfg.LoneWindow
	}
	return p.cfg.Window
}

// fill reveals pieces to one peer up to its window: fresh ones, or, to a
// starving peer, the least held of those it lacks.
func (p *Policy) fill(out []Offer, id uint64, pr *peer) []Offer {
	if pr.has == nil || pr.has.All() {
		return out
	}
	w := p.window(pr)
	for pr.pending < w {
		i, ok := p.fresh(pr)
		if ok {
			p.freshOffers++
		} else if pr.starving {
			i, ok = p.leastHeld(pr)
		}
		if !ok {
			break
		}
		out = p.offer(out, id, pr, i)
	}
	return out
}

// fillAll tops every peer up, as after a departure made pieces fresh.
func (p *Policy) fillAll(out []Offer) []Offer {
	for id, pr := range p.peers {
		out = p.fill(out, id, pr)
	}
	return out
}

// idleFill reveals, while the origin's uplink is idle, the least held
// pieces they lack to the leechers with nothing on their way from the
// origin, up to the lone window each: those are the pieces the swarm
// would trade slowest, and the origin would otherwise send nothing while
// the leechers wait for them.
//
// Each such piece is a copy the swarm could have carried, so they are
// budgeted: at most one for every n fresh offers, n the connected peers.
// The fresh offers add up to about one copy of the torrent, so idle
// reveals add at most 1/n of a copy (feeding a starving leecher is apart):
// 1.5 copies for two leechers, where plain serving sends up to 2, and
// under 1.1 from ten peers on, where the origin's uplink is seldom idle
// anyway. The budget grows with the fresh offers,
// so a late leecher (the fresh pieces all gone) gets little this way: it
// waits for the swarm, and starves into being fed (Tick) if it must.
func (p *Policy) idleFill(out []Offer) []Offer {
	if p.cfg.Idle == nil || !p.idleBudget() {
		return out
	}
	asked, idle := false, false
	for id, pr := range p.peers {
		if pr.has == nil || pr.has.All() || pr.pending > 0 {
			continue
		}
		// Asked once, and only when a leecher waits: it visits every
		// connection of the torrent.
		if !asked {
			asked, idle = true, p.cfg.Idle()
		}
		if !idle {
			return out
		}
		for pr.pending < p.cfg.LoneWindow && p.idleBudget() {
			i, ok := p.leastHeld(pr)
			if !ok {
				break
			}
			p.idleOffers++
			out = p.offer(out, id, pr, i)
		}
	}
	return out
}

// idleBudget reports whether one more piece may be revealed by idleFill.
func (p *Policy) idleBudget() bool {
	return (p.idleOffers+1)*uint64(len(p.peers)) <= p.freshOffers
}

// fresh finds a piece that pr lacks, that nobody connected has and that is
// on its way to nobody, from the cursor on.
func (p *Policy) fresh(pr *peer) (uint32, bool) {
	n := p.cfg.Pieces
	for k := range n {
		i := (p.cursor + k) % n
		if p.holders[i] == 0 && p.pending[i] == 0 && !pr.has.Has(i) && !pr.offered.Has(i) && p.servable(i) {
			p.cursor = (i + 1) % n
			return i, true
		}
	}
	return 0, false
}

// leastHeld finds the piece pr lacks, not revealed to it yet, that the
// fewest peers have or are getting.
func (p *Policy) leastHeld(pr *peer) (uint32, bool) {
	best, found := uint32(0), false
	for i := range p.cfg.Pieces {
		if pr.has.Has(i) || pr.offered.Has(i) || !p.servable(i) {
			continue
		}
		if !found || p.holders[i]+p.pending[i] < p.holders[best]+p.pending[best] {
			best, found = i, true
		}
	}
	return best, found
}

func (p *Policy) offer(out []Offer, id uint64, pr *peer, i uint32) []Offer {
	pr.offered.Set(i)
	pr.pending++
	p.pending[i]++
	p.offers++
	return append(out, Offer{Peer: id, Piece: i})
}
