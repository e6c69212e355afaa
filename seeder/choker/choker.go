// Package choker decides which peers a seed uploads to (BEP 3 choking, as
// a seed does it): every interested peer is unchoked while upload slots
// are free; when more peers are interested than there are slots, the slots
// rotate round-robin, so each peer is served in turn, and one extra
// optimistic slot goes to a random waiting peer.
//
// The Choker is pure logic: it is told about peers and time, and answers
// with decisions for the caller to send. It is not safe for concurrent use.
package choker

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Config tunes a Choker.
type Config struct {
	// Slots is the number of peers unchoked at once, besides the
	// optimistic one; at least 1.
	Slots int
	// Term is how long a peer keeps a regular slot before it may be
	// rotated out for one that waits; DefaultTerm when 0.
	Term time.Duration
	// OptimisticTerm is how long the optimistic slot stays with one peer;
	// DefaultOptimisticTerm when 0.
	OptimisticTerm time.Duration
	// NoOptimistic turns the optimistic slot off.
	NoOptimistic bool
}

// Defaults of Config.
const (
	DefaultTerm           = 30 * time.Second
	DefaultOptimisticTerm = 30 * time.Second
)

// Decision tells the caller to choke or unchoke one peer.
type Decision struct {
	ID      uint64
	Unchoke bool
}

type state int

const (
	choked state = iota
	regular
	optimistic
)

// peer is the Choker's view of one connection.
type peer struct {
	id         uint64
	interested bool
	state      state
	since      time.Time // when the current slot was given
	waiting    time.Time // when it last started waiting for a slot
}

// Choker holds the choke state of a seed's peers.
type Choker struct {
	cfg   Config
	peers map[uint64]*peer
	rand  func(n int) int
}

// New returns a Choker. rand(n) returns a number in [0, n), for the
// optimistic slot; math/rand/v2.IntN will do.
func New(cfg Config, rand func(n int) int) (*Choker, error) {
	if cfg.Slots < 1 {
		return nil, fmt.Errorf("choker: %d upload slots: need at least 1", cfg.Slots)
	}
	if cfg.Term <= 0 {
		cfg.Term = DefaultTerm
	}
	if cfg.OptimisticTerm <= 0 {
		cfg.OptimisticTerm = DefaultOptimisticTerm
	}
	return &Choker{cfg: cfg, peers: make(map[uint64]*peer), rand: rand}, nil
}

// Add registers a new connection: choked and not interested.
func (c *Choker) Add(id uint64) { c.peers[id] = &peer{id: id} }

// Unchoked reports whether the peer holds a slot.
func (c *Choker) Unchoked(id uint64) bool {
	p, ok := c.peers[id]
	return ok && p.state != choked
}

// counts returns how many peers hold regular and optimistic slots.
func (c *Choker) counts() (reg, opt int) {
	for _, p := range c.peers {
		switch p.state {
		case regular:
			reg++
		case optimistic:
			opt++
		}
	}
	return reg, opt
}

// Remove forgets a closed connection. Its slot, if it had one, goes at once
// to the peer that has waited longest.
func (c *Choker) Remove(id uint64, now time.Time) []Decision {
	p, ok := c.peers[id]
	if !ok {
		return nil
	}
	delete(c.peers, id)
	if p.state == choked {
		return nil
	}
	return c.fill(now, nil)
}

// SetInterested records a peer's interest. A newly interested peer is
// unchoked at once if a slot is free, so nobody waits for the next
// rechoke; a peer that loses interest gives its slot up.
func (c *Choker) SetInterested(id uint64, interested bool, now time.Time) []Decision {
	p, ok := c.peers[id]
	if !ok || p.interested == interested {
		return nil
	}
	p.interested = interested
	if interested {
		p.waiting = now
		return c.fill(now, nil)
	}
	if p.state == choked {
		return nil
	}
	p.state = choked
	return c.fill(now, []Decision{{ID: id}})
}

// fill gives free slots to waiting peers, longest waiting first.
func (c *Choker) fill(now time.Time, out []Decision) []Decision {
	reg, opt := c.counts()
	free := c.cfg.Slots - reg
	optFree := opt == 0 && !c.cfg.NoOptimistic
	if free <= 0 && !optFree {
		return out
	}
	for _, p := range c.waitingPeers() {
		switch {
		case free > 0:
			free--
			p.state = regular
		case optFree:
			optFree = false
			p.state = optimistic
		default:
			return out
		}
		p.since = now
		out = append(out, Decision{ID: p.id, Unchoke: true})
	}
	return out
}

// waitingPeers returns the choked interested peers, longest waiting first
// (ties by ID, so decisions are reproducible).
func (c *Choker) waitingPeers() []*peer {
	var w []*peer
	for _, p := range c.peers {
		if p.interested && p.state == choked {
			w = append(w, p)
		}
	}
	slices.SortFunc(w, func(a, b *peer) int {
		if r := a.waiting.Compare(b.waiting); r != 0 {
			return r
		}
		return cmp.Compare(a.id, b.id)
	})
	return w
}

// Rechoke rotates the slots; call it every few seconds (10 is usual).
// Regular slots held for longer than Term go to the peers that have waited
// longest, and the optimistic slot moves to a random waiting peer once it
// has been held for OptimisticTerm. With no more interested peers than
// slots, everybody interested stays unchoked.
func (c *Choker) Rechoke(now time.Time) []Decision {
	before := make(map[uint64]bool, len(c.peers))
	for id, p := range c.peers {
		before[id] = p.state != choked
	}
	c.rotate(now)
	// A peer may have lost its slot and got another in one round; tell
	// the caller only what changed.
	var out []Decision
	for id, p := range c.peers {
		if now := p.state != choked; now != before[id] {
			out = append(out, Decision{ID: id, Unchoke: now})
		}
	}
	slices.SortFunc(out, func(a, b Decision) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// rotate moves expired slots to waiting peers and fills free ones.
func (c *Choker) rotate(now time.Time) {
	waiting := c.waitingPeers()
	// Rotate expired regular slots out, oldest first, one per waiting peer.
	var expired []*peer
	for _, p := range c.peers {
		if p.state == regular && now.Sub(p.since) >= c.cfg.Term {
			expired = append(expired, p)
		}
	}
	slices.SortFunc(expired, func(a, b *peer) int {
		if r := a.since.Compare(b.since); r != 0 {
			return r
		}
		return cmp.Compare(a.id, b.id)
	})
	rotate := min(len(expired), len(waiting))
	for _, p := range expired[:rotate] {
		p.state = choked
		p.waiting = now
	}
	for _, p := range waiting[:rotate] {
		p.state = regular
		p.since = now
	}
	waiting = waiting[rotate:]

	// Move the optimistic slot on when its term is over and someone else
	// waits; a peer that had it goes to the back of the queue.
	if !c.cfg.NoOptimistic && len(waiting) > 0 {
		for _, p := range c.peers {
			if p.state == optimistic && now.Sub(p.since) >= c.cfg.OptimisticTerm {
				p.state = choked
				p.waiting = now
			}
		}
		if _, opt := c.counts(); opt == 0 {
			p := waiting[c.rand(len(waiting))]
			p.state = optimistic
			p.since = now
		}
	}
	c.fill(now, nil)
}
