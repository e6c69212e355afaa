package swarm

import (
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/seeder/offload"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// offloader is one torrent's offload policy and the connections its offers
// go to. Its lock is its own, not the swarm's: the lock order is
// offloader.mu, then peer.Conn's.
type offloader struct {
	mu     sync.Mutex
	policy *offload.Policy
	conns  map[uint64]*peer.Conn
}

// newOffloader starts the policy of a torrent of the given pieces. uplink
// counts the seeder's busy connections: the origin's uplink is idle when
// none of any torrent is (nil: never idle).
func newOffloader(pieces uint32, served func(uint32) bool, uplink *peer.Uplink) *offloader {
	o := &offloader{conns: make(map[uint64]*peer.Conn)}
	var idle func() bool
	if uplink != nil {
		idle = uplink.Idle
	}
	p, err := offload.New(offload.Config{Pieces: pieces, Servable: served, Idle: idle})
	if err != nil {
		// Only a torrent of no pieces, which metainfo never parses.
		return nil
	}
	o.policy = p
	return o
}

// apply reveals each offered piece to its peer with a have message.
// o.mu is held.
func (o *offloader) apply(offers []offload.Offer) {
	for _, of := range offers {
		if c := o.conns[of.Peer]; c != nil {
			c.Offer(of.Piece)
		}
	}
}

// add starts offering to a registered connection.
func (o *offloader) add(c *peer.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.conns[c.ID()] = c
	o.policy.Add(c.ID(), time.Now())
}

// remove stops offering to a closed connection; what only it had goes to
// the others.
func (o *offloader) remove(c *peer.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conns[c.ID()] != c {
		return
	}
	delete(o.conns, c.ID())
	o.apply(o.policy.Remove(c.ID()))
}

// bitfield records a connection's pieces; nil for have none or no bitfield.
func (o *offloader) bitfield(c *peer.Conn, has *bitfield.Bitfield) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apply(o.policy.Bitfield(c.ID(), has, time.Now()))
}

// have records a piece a connection now has.
func (o *offloader) have(c *peer.Conn, piece uint32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apply(o.policy.Have(c.ID(), piece, time.Now()))
}

// refill tops the leechers up, as when pieces are served again.
func (o *offloader) refill() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apply(o.policy.Refill())
}

// tick runs the policy's timers.
func (o *offloader) tick(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.apply(o.policy.Tick(now))
}

// OffloadStatus is what one torrent's offload policy knows, for /torrents
// and the metrics.
type OffloadStatus struct {
	// Copies is the number of full copies the connected peers hold.
	Copies float64 `json:"copies"`
	// Offered counts the pieces revealed to peers.
	Offered uint64 `json:"offered_pieces"`
	// IdleOffered counts those revealed although the swarm was spreading
	// them, because the origin's uplink was idle.
	IdleOffered uint64 `json:"idle_offered_pieces"`
	// Spreading counts the pieces connected leechers lack that the origin
	// withholds because another peer has them or is getting them.
	Spreading int `json:"spreading_pieces"`
}

func (o *offloader) status() OffloadStatus {
	o.mu.Lock()
	defer o.mu.Unlock()
	return OffloadStatus{Copies: o.policy.Copies(), Offered: o.policy.Offers(), IdleOffered: o.policy.IdleOffers(),
		Spreading: o.policy.Spreading()}
}
