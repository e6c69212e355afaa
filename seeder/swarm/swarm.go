// Package swarm is the seeder's state of one torrent's swarm: the peers
// connected (peer.Conn), what they hold and what was offered to them (the
// offload policy's glue), peer exchange, and the addresses trackers named
// to dial. The decisions are taken by pure packages (offload, pex,
// candidates); a Swarm tells them what its peers do and carries their
// answers out on the connections.
//
// Each Swarm has its own lock, so that what one torrent's peers do never
// waits for another torrent's, nor for the seeder's. Lock order: the
// seeder's lock, then a Swarm's; a Swarm's lock, its offload policy's and
// its peer exchange's are never held together; any of them, then a
// connection's. A Swarm never calls out to the seeder, and a connection
// calls its Swarm without holding its own lock.
package swarm

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/candidates"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// Config sets up a Swarm.
type Config struct {
	// InfoHash is the torrent's first hash, which peers are dialled with
	// unless a tracker named them under another.
	InfoHash metainfo.InfoHash
	// Pieces is the torrent's number of pieces; Served tells whether a
	// piece is served now.
	Pieces uint32
	Served func(uint32) bool
	// Private keeps peer exchange off (BEP 27).
	Private bool
	// Offload reveals pieces to leechers by package offload's policy.
	Offload bool
	// Uplink is the seeder's count of busy connections (the one its
	// connections' peer.Config holds): the offload policy takes the
	// origin's uplink for idle only when no connection of any torrent is
	// busy. Nil: never idle.
	Uplink *peer.Uplink
	// MaxConns bounds the connections of the torrent, MaxDials those we
	// open for it.
	MaxConns, MaxDials int
}

// Swarm is one torrent's peers. Its methods are safe for concurrent use.
type Swarm struct {
	infoHash metainfo.InfoHash
	maxConns int
	maxDials int
	// offload is the offload policy, nil when Config.Offload is off; pex
	// the peer exchange, nil for a private torrent. Each has its own lock.
	offload *offloader
	pex     *pexer

	mu       sync.Mutex // guards what follows
	conns    map[uint64]*peer.Conn
	byPeerID map[[20]byte]uint64
	// addrs are the peers' listening addresses: not dialled again.
	addrs map[netip.AddrPort]uint64
	// candidates are the peers from trackers to dial, dials the
	// connections we open or are opening.
	candidates *candidates.List
	dials      int
	// dialHashes are the candidates a tracker named under a hybrid's v2
	// info hash (noteDialHash).
	dialHashes map[netip.AddrPort]metainfo.InfoHash
}

// New returns the empty swarm of a torrent.
func New(cfg Config) *Swarm {
	sw := &Swarm{
		infoHash:   cfg.InfoHash,
		maxConns:   cfg.MaxConns,
		maxDials:   cfg.MaxDials,
		conns:      make(map[uint64]*peer.Conn),
		byPeerID:   make(map[[20]byte]uint64),
		addrs:      make(map[netip.AddrPort]uint64),
		candidates: newCandidates(),
	}
	if cfg.Offload {
		sw.offload = newOffloader(cfg.Pieces, cfg.Served, cfg.Uplink)
	}
	if !cfg.Private {
		sw.pex = newPexer()
	}
	return sw
}

// Offload reports whether the offload policy decides what each peer may
// request; Pex whether peers exchange addresses (ut_pex).
func (sw *Swarm) Offload() bool { return sw.offload != nil }

// Pex reports whether the torrent's peers exchange addresses (ut_pex).
func (sw *Swarm) Pex() bool { return sw.pex != nil }

// Errors of Join.
var (
	ErrFull      = errors.New("too many connections for the torrent")
	ErrDuplicate = errors.New("peer already connected")
)

// Join adds a connection past its handshake under id, or refuses it when
// the torrent has MaxConns or the peer is connected already.
func (sw *Swarm) Join(c *peer.Conn, id uint64) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if len(sw.conns) >= sw.maxConns {
		return ErrFull
	}
	if _, dup := sw.byPeerID[c.PeerID()]; dup {
		return ErrDuplicate
	}
	sw.conns[id] = c
	sw.byPeerID[c.PeerID()] = id
	if c.Outgoing() {
		sw.addrs[c.Addr()] = id
		sw.candidates.Remove(c.Addr())
	}
	return nil
}

// Started begins offering pieces to a joined connection and telling it of
// other peers, once our introduction is queued.
func (sw *Swarm) Started(c *peer.Conn) {
	if o := sw.offload; o != nil {
		o.add(c)
	}
	if p := sw.pex; p != nil {
		p.add(c)
	}
}

// Leave forgets a closed connection; what only it had goes to the others.
func (sw *Swarm) Leave(c *peer.Conn) {
	sw.mu.Lock()
	// By peer ID, set at the handshake: the ID Join was given reaches c
	// only once Join has returned.
	if id, ok := sw.byPeerID[c.PeerID()]; ok && sw.conns[id] == c {
		delete(sw.conns, id)
		delete(sw.byPeerID, c.PeerID())
		for a, aid := range sw.addrs {
			if aid == id {
				delete(sw.addrs, a)
			}
		}
	}
	sw.mu.Unlock()
	if p := sw.pex; p != nil {
		p.remove(c)
	}
	if o := sw.offload; o != nil {
		o.remove(c)
	}
}

// Len is the number of connections.
func (sw *Swarm) Len() int {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return len(sw.conns)
}

// Conns returns the connections.
func (sw *Swarm) Conns() []*peer.Conn {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	out := make([]*peer.Conn, 0, len(sw.conns))
	for _, c := range sw.conns {
		out = append(out, c)
	}
	return out
}

// Extensions records what a peer's extension handshake says: its
// listening port, so that it is not dialled again there, and whether it
// speaks ut_pex.
func (sw *Swarm) Extensions(c *peer.Conn, port uint16, pexID uint8) {
	if port != 0 {
		a := netip.AddrPortFrom(c.Addr().Addr(), port)
		sw.mu.Lock()
		if sw.conns[c.ID()] == c {
			sw.addrs[a] = c.ID()
			sw.candidates.Remove(a)
		}
		sw.mu.Unlock()
	}
	if p := sw.pex; p != nil {
		p.handshake(c, port, pexID)
	}
}

// Bitfield records a peer's pieces under offload; nil for have none.
func (sw *Swarm) Bitfield(c *peer.Conn, has *bitfield.Bitfield) { sw.offload.bitfield(c, has) }

// Have records a piece a peer now has, under offload.
func (sw *Swarm) Have(c *peer.Conn, piece uint32) { sw.offload.have(c, piece) }

// ServedAgain tells every peer of pieces served again after a recheck,
// and tops the leechers up under offload.
func (sw *Swarm) ServedAgain(pieces []uint32) {
	sw.mu.Lock()
	for _, c := range sw.conns {
		c.SendHaves(pieces)
	}
	sw.mu.Unlock()
	if o := sw.offload; o != nil {
		o.refill()
	}
}

// Tick runs the offload policy's timers: peers whose bitfield never
// came, stalled leechers.
func (sw *Swarm) Tick(now time.Time) {
	if o := sw.offload; o != nil {
		o.tick(now)
	}
}

// SendPex queues the peer exchange messages due now.
func (sw *Swarm) SendPex(now time.Time) {
	if p := sw.pex; p != nil {
		p.send(now)
	}
}

// OffloadStatus is what the offload policy knows; false when it is off.
func (sw *Swarm) OffloadStatus() (OffloadStatus, bool) {
	if sw.offload == nil {
		return OffloadStatus{}, false
	}
	return sw.offload.status(), true
}
