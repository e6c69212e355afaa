// Package pex decides what the origin tells each peer of a torrent about
// the others by peer exchange (BEP 11): the origin meets every leecher
// first, so it can introduce them to each other, whichever tracker, DHT
// or web page brought them, and the swarm carries the load sooner.
//
// The Exchange is pure logic, like package choker: it is told which peers
// are connected, their listening addresses and whether they speak ut_pex,
// and answers with the messages to send. It is not safe for concurrent
// use.
package pex

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Config tunes an Exchange.
type Config struct {
	// Interval is the least time between two messages to one peer;
	// DefaultInterval when 0 (BEP 11 asks for no more than one a minute).
	Interval time.Duration
	// FirstDelay is how long after a peer says it speaks ut_pex the first
	// message goes, so that the peers arriving together are in it;
	// DefaultFirstDelay when 0.
	FirstDelay time.Duration
	// Max bounds each of a message's added and dropped lists;
	// DefaultMax (BEP 11's 50) when 0.
	Max int
}

// Defaults of Config.
const (
	DefaultInterval   = time.Minute
	DefaultFirstDelay = time.Second
	DefaultMax        = 50
)

// Message is one ut_pex message to send to peer To.
type Message struct {
	To      uint64
	Added   []netip.AddrPort
	Dropped []netip.AddrPort
}

type peer struct {
	// addr is where the peer accepts connections; invalid until known.
	addr netip.AddrPort
	// speaks is set once the peer announced ut_pex.
	speaks bool
	// told are the addresses this peer was told of and not told dropped.
	told map[netip.AddrPort]bool
	// next is when a message may go to it.
	next time.Time
}

// Exchange is the peer exchange state of one torrent.
type Exchange struct {
	cfg   Config
	peers map[uint64]*peer
}

// New returns an Exchange.
func New(cfg Config) (*Exchange, error) {
	if cfg.Interval < 0 || cfg.FirstDelay < 0 || cfg.Max < 0 {
		return nil, fmt.Errorf("pex: interval %s, first delay %s, max %d: must not be negative", cfg.Interval, cfg.FirstDelay, cfg.Max)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.FirstDelay == 0 {
		cfg.FirstDelay = DefaultFirstDelay
	}
	if cfg.Max == 0 {
		cfg.Max = DefaultMax
	}
	return &Exchange{cfg: cfg, peers: make(map[uint64]*peer)}, nil
}

// Add starts tracking a connected peer; addr is its listening address if
// known (we dialled it), or the zero value.
func (e *Exchange) Add(id uint64, addr netip.AddrPort) {
	if _, ok := e.peers[id]; !ok {
		e.peers[id] = &peer{addr: addr, told: make(map[netip.AddrPort]bool)}
	}
}

// SetAddr records a peer's listening address (its extension handshake's
// port at the address it connected from).
func (e *Exchange) SetAddr(id uint64, addr netip.AddrPort) {
	if p, ok := e.peers[id]; ok && addr.IsValid() && addr.Port() != 0 {
		p.addr = addr
	}
}

// Speaks records that a peer speaks ut_pex; its first message goes
// FirstDelay later.
func (e *Exchange) Speaks(id uint64, now time.Time) {
	if p, ok := e.peers[id]; ok && !p.speaks {
		p.speaks = true
		p.next = now.Add(e.cfg.FirstDelay)
	}
}

// Remove forgets a peer that left; the others hear it dropped.
func (e *Exchange) Remove(id uint64) { delete(e.peers, id) }

// Due answers the messages to send now: to every peer that speaks ut_pex
// and may get one, the addresses of the other connected peers it was not
// told of yet, and those it was told of that left. A peer with nothing new
// gets nothing.
func (e *Exchange) Due(now time.Time) []Message {
	var out []Message
	var current map[netip.AddrPort]bool
	for id, p := range e.peers {
		if !p.speaks || now.Before(p.next) {
			continue
		}
		if current == nil {
			current = make(map[netip.AddrPort]bool, len(e.peers))
			for _, q := range e.peers {
				if q.addr.IsValid() {
					current[q.addr] = true
				}
			}
		}
		m := Message{To: id}
		for a := range current {
			if a != p.addr && !p.told[a] {
				m.Added = append(m.Added, a)
			}
		}
		for a := range p.told {
			if !current[a] {
				m.Dropped = append(m.Dropped, a)
			}
		}
		if len(m.Added) == 0 && len(m.Dropped) == 0 {
			continue
		}
		// A stable order, so what is left over goes in the next message.
		m.Added = first(m.Added, e.cfg.Max)
		m.Dropped = first(m.Dropped, e.cfg.Max)
		for _, a := range m.Added {
			p.told[a] = true
		}
		for _, a := range m.Dropped {
			delete(p.told, a)
		}
		p.next = now.Add(e.cfg.Interval)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Message) int { return cmp.Compare(a.To, b.To) })
	return out
}

func first(as []netip.AddrPort, n int) []netip.AddrPort {
	slices.SortFunc(as, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return as[:min(len(as), n)]
}
