package seeder

import (
	"net/netip"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/pex"
)

// pexID is the extended message ID we receive ut_pex with (BEP 11). We
// read nothing from peers' messages: the origin does not look for peers.
const pexID = 2

// pexTick is how often the peer exchanges are asked for due messages.
const pexTick = 500 * time.Millisecond

// pexer is one torrent's peer exchange and the connections its messages go
// to. Its lock is its own: the lock order is pexer.mu, then conn.mu.
type pexer struct {
	mu    sync.Mutex
	ex    *pex.Exchange
	conns map[uint64]*conn
	// extIDs are the IDs the peers gave ut_pex.
	extIDs map[uint64]uint8
}

// newPexer returns the peer exchange of a torrent, or nil for a private
// one: BEP 27 forbids telling its peers about each other but by tracker.
func newPexer(t *Torrent) *pexer {
	if t.Meta.Info.Private {
		return nil
	}
	ex, err := pex.New(pex.Config{})
	if err != nil {
		return nil // the zero Config is valid
	}
	return &pexer{ex: ex, conns: make(map[uint64]*conn), extIDs: make(map[uint64]uint8)}
}

// add tracks a registered connection; the address of one we dialled is
// where it listens.
func (p *pexer) add(c *conn) {
	var listen netip.AddrPort
	if c.outgoing {
		listen = c.addr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c.id] = c
	p.ex.Add(c.id, listen)
}

func (p *pexer) remove(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.id] != c {
		return
	}
	delete(p.conns, c.id)
	delete(p.extIDs, c.id)
	p.ex.Remove(c.id)
}

// handshake records what a peer's extension handshake says: its listening
// port and the ID it gave ut_pex (0: it does not speak it).
func (p *pexer) handshake(c *conn, port uint16, extID uint8) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.id] != c {
		return
	}
	if port != 0 {
		p.ex.SetAddr(c.id, netip.AddrPortFrom(c.addr.Addr(), port))
	}
	if extID != 0 {
		p.extIDs[c.id] = extID
		p.ex.Speaks(c.id, time.Now())
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
		c.mu.Lock()
		if c.err == nil && !c.outFull() {
			c.out = msg.AppendTo(c.out)
			c.signal()
		}
		c.mu.Unlock()
	}
}
