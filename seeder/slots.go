package seeder

import (
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/seeder/choker"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// slots are the seeder's upload slots and the connections that compete
// for them: Config.UploadSlots bounds the peers unchoked at once in the
// whole seeder, whatever their torrents, so one choker decides for all.
// Its lock is its own and guards nothing else, so a change of interest,
// which runs the choker, waits neither for the seeder's registry nor for
// any swarm. The lock order is slots.mu, then a connection's.
type slots struct {
	mu     sync.Mutex
	choker *choker.Choker
	// conns are every registered connection, by ID, to carry the
	// choker's decisions out.
	conns map[uint64]*peer.Conn
	// interestUpdates counts the changes of interest handed to the
	// choker, which the pacing of peer.InterestInterval bounds (tests
	// read it).
	interestUpdates int
}

func newSlots(ch *choker.Choker) *slots {
	return &slots{choker: ch, conns: make(map[uint64]*peer.Conn)}
}

// add makes a registered connection compete for a slot.
func (u *slots) add(id uint64, c *peer.Conn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.conns[id] = c
	u.choker.Add(id)
}

// remove forgets a closed connection and gives its slot away; false when
// it was not registered.
func (u *slots) remove(c *peer.Conn) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := c.ID()
	if u.conns[id] != c {
		return false
	}
	delete(u.conns, id)
	u.apply(u.choker.Remove(id, time.Now()))
	return true
}

// setInterested tells the choker the peer's latest interest and applies
// its answer. The latest is read under u.mu, so of two calls racing (the
// reader's and a paced flush) the last to run applies the newest state.
func (u *slots) setInterested(c *peer.Conn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conns[c.ID()] != c {
		return
	}
	u.interestUpdates++
	u.apply(u.choker.SetInterested(c.ID(), c.Interested(), time.Now()))
}

// rechoke rotates the slots.
func (u *slots) rechoke(now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.apply(u.choker.Rechoke(now))
}

// apply sends the choker's decisions; u.mu is held.
func (u *slots) apply(ds []choker.Decision) {
	for _, d := range ds {
		if c := u.conns[d.ID]; c != nil {
			c.SetChoked(!d.Unchoke)
		}
	}
}

// len is the number of registered connections.
func (u *slots) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.conns)
}

// all returns the registered connections.
func (u *slots) all() []*peer.Conn {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]*peer.Conn, 0, len(u.conns))
	for _, c := range u.conns {
		out = append(out, c)
	}
	return out
}

// unchoked counts the connections holding a slot now.
func (u *slots) unchoked() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.conns {
		if c.Unchoked() {
			n++
		}
	}
	return n
}
