package swarm

import (
	"net/netip"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/peer"
	"github.com/bitorigin/bitorigin/seeder/pex"
)

// pexer is one torrent's peer exchange and the connections its messages go
// to. Its lock is its own: the lock order is pexer.mu, then peer.Conn's.
type pexer struct {
	mu    sync.Mutex
	ex    *pex.Exchange
	conns map[uint64]*peer.Conn
	// extIDs are the IDs the peers gave ut_pex.
	extIDs map[uint64]uint8
}

// newPexer returns the peer exchange of a public torrent: BEP 27 forbids
// telling a private one's peers about each other but by tracker.
func newPexer() *pexer {
	ex, err := pex.New(pex.Config{})
	if err != nil {
		return nil // the zero Config is valid
	}
	return &pexer{ex: ex, conns: make(map[uint64]*peer.Conn), extIDs: make(map[uint64]uint8)}
}

// add tracks a registered connection; the address of one we dialled is
// where it listens.
func (p *pexer) add(c *peer.Conn) {
	var listen netip.AddrPort
	if c.Outgoing() {
		listen = c.Addr()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c.ID()] = c
	p.ex.Add(c.ID(), listen)
}

func (p *pexer) remove(c *peer.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.ID()] != c {
		return
	}
	delete(p.conns, c.ID())
	delete(p.extIDs, c.ID())
	p.ex.Remove(c.ID())
}

// handshake records what a peer's extension handshake says: its listening
// port and the ID it gave ut_pex (0: it does not speak it).
func (p *pexer) handshake(c *peer.Conn, port uint16, extID uint8) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.ID()] != c {
		return
	}
	if port != 0 {
		p.ex.SetAddr(c.ID(), netip.AddrPortFrom(c.Addr().Addr(), port))
	}
	if extID != 0 {
		p.extIDs[c.ID()] = extID
		p.ex.Speaks(c.ID(), time.Now())
	}
}

// send queues the messages due now.
func (p *pexer) send(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.ex.Due(now) {
		c := p.conns[m.To]
		if c == nil {
			continue
		}
		msg := peerwire.Pex{ExtID: p.extIDs[m.To], Dropped: m.Dropped}
		for _, a := range m.Added {
			msg.Added = append(msg.Added, peerwire.PexPeer{Addr: a})
		}
		c.SendPex(msg)
	}
}
