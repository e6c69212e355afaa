// Package admission decides which incoming peer connections a seeder
// takes. Every connection counts against one total limit; the incoming
// ones from one source (an IPv4 address, or an IPv6 /64, which one host
// usually holds whole) also count against a limit per source, handshakes
// included, so that one machine cannot take every slot. When a limit is
// reached the newcomer is not simply refused: the oldest connection still
// in its handshake (from the newcomer's own source when that source is at
// its limit, from anyone when the total is) is dropped to make room. An
// honest client finishes its handshake in a round trip or two, so the
// oldest handshakes are the idle ones a flood leaves behind, and a client
// like aria2c, which does not retry a peer that dropped it until its next
// announce, gets in at its first attempt.
//
// A Gate is pure logic: it is told about connections and answers with
// verdicts for the caller to carry out. It is not safe for concurrent use.
package admission

import (
	"container/list"
	"fmt"
	"net/netip"
)

// Config tunes a Gate.
type Config struct {
	// MaxConns bounds every connection: the incoming ones the Gate tracks
	// plus the others the caller counts (connections it opened).
	MaxConns int
	// MaxPerSource bounds the incoming connections from one source,
	// handshakes included; 0 means no limit.
	MaxPerSource int
	// Exempt lists the addresses MaxPerSource does not apply to (a proxy
	// in front of the seeder, the loopback clients of tests). The total
	// still does.
	Exempt []netip.Prefix
}

// ID names an incoming connection the Gate admitted; never 0.
type ID uint64

// Verdict is the Gate's answer to a newcomer: admitted or refused, and
// whether a connection still in its handshake must be closed first.
type Verdict struct {
	Admit bool
	// ID is the newcomer's, when admitted.
	ID ID
	// Evict, when not 0, is the connection to close to make room; the
	// Gate has forgotten it already.
	Evict ID
}

// entry is one incoming connection.
type entry struct {
	id  ID
	src netip.Prefix
	// In their handshake, an entry is in the Gate's list of handshakes
	// and in its source's; established, in neither.
	all, own *list.Element
}

// source is what the Gate knows of one source address.
type source struct {
	conns      int
	handshakes list.List // of *entry, oldest first
}

// Gate tracks the incoming connections and decides on newcomers.
type Gate struct {
	cfg        Config
	next       ID
	conns      map[ID]*entry
	sources    map[netip.Prefix]*source
	handshakes list.List // of *entry, oldest first
}

// New returns a Gate.
func New(cfg Config) (*Gate, error) {
	if cfg.MaxConns < 1 {
		return nil, fmt.Errorf("admission: max conns %d: need at least 1", cfg.MaxConns)
	}
	if cfg.MaxPerSource < 0 {
		return nil, fmt.Errorf("admission: max conns per source %d: must not be negative", cfg.MaxPerSource)
	}
	return &Gate{cfg: cfg, conns: make(map[ID]*entry), sources: make(map[netip.Prefix]*source)}, nil
}

// SourceOf is the source an address counts under: the address itself for
// IPv4, its /64 for IPv6.
func SourceOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// exempt reports whether a is exempt from the limit per source.
func (g *Gate) exempt(a netip.Addr) bool {
	for _, p := range g.cfg.Exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Accept decides on a connection from a, with others connections open
// that the Gate does not track. An admitted newcomer is in its handshake
// until Established.
func (g *Gate) Accept(a netip.Addr, others int) Verdict {
	a = a.Unmap()
	src := SourceOf(a)
	s := g.sources[src]
	var evict *entry
	switch {
	case s != nil && g.cfg.MaxPerSource > 0 && s.conns >= g.cfg.MaxPerSource && !g.exempt(a):
		// The source's own oldest handshake makes room; its
		// established connections stay. The total does not change.
		if s.handshakes.Len() == 0 {
			return Verdict{}
		}
		evict = s.handshakes.Front().Value.(*entry)
	case len(g.conns)+others >= g.cfg.MaxConns:
		// Dropping one handshake must bring the total under the
		// limit; connections the caller opened may keep it above.
		if g.handshakes.Len() == 0 || len(g.conns)-1+others >= g.cfg.MaxConns {
			return Verdict{}
		}
		evict = g.handshakes.Front().Value.(*entry)
	}
	v := Verdict{Admit: true}
	if evict != nil {
		v.Evict = evict.id
		g.Close(evict.id)
	}
	if s = g.sources[src]; s == nil {
		s = &source{}
		g.sources[src] = s
	}
	g.next++
	e := &entry{id: g.next, src: src}
	e.all = g.handshakes.PushBack(e)
	e.own = s.handshakes.PushBack(e)
	s.conns++
	g.conns[e.id] = e
	v.ID = e.id
	return v
}

// Established records that connection id finished its handshake: it can
// no longer be evicted. It reports false when the Gate does not know id
// (it was evicted): the caller must close it.
func (g *Gate) Established(id ID) bool {
	e, ok := g.conns[id]
	if !ok {
		return false
	}
	if e.all != nil {
		g.handshakes.Remove(e.all)
		g.sources[e.src].handshakes.Remove(e.own)
		e.all, e.own = nil, nil
	}
	return true
}

// Close forgets connection id; an unknown id (evicted) is ignored.
func (g *Gate) Close(id ID) {
	e, ok := g.conns[id]
	if !ok {
		return
	}
	delete(g.conns, id)
	s := g.sources[e.src]
	if e.all != nil {
		g.handshakes.Remove(e.all)
		s.handshakes.Remove(e.own)
	}
	if s.conns--; s.conns == 0 {
		delete(g.sources, e.src)
	}
}

// Len is the number of incoming connections tracked.
func (g *Gate) Len() int { return len(g.conns) }

// Handshakes is the number of them still in their handshake.
func (g *Gate) Handshakes() int { return g.handshakes.Len() }

// FromSource is the number of incoming connections from a's source.
func (g *Gate) FromSource(a netip.Addr) int {
	if s := g.sources[SourceOf(a)]; s != nil {
		return s.conns
	}
	return 0
}
