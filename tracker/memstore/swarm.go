package memstore

import (
	"math/rand/v2"
	"net/netip"

	"github.com/bitorigin/bitorigin/tracker"
)

// The four peer lists of a swarm: address family times role.
const (
	seeders4 = iota
	leechers4
	seeders6
	leechers6
	numLists
)

// peerKey identifies a peer in a swarm: its peer ID together with its
// address, so a peer ID seen from another address is another peer.
type peerKey struct {
	id   tracker.PeerID
	addr [18]byte // IPv4 in the first 6 bytes, or IPv6 in all 18; port last
}

// peer is one entry of a peer list.
type peer struct {
	seen uint32 // seconds since the store's epoch
	key  peerKey
	// done says the peer has seeded or finished in this swarm since it
	// arrived, so it counts no further download (see tracker.Store). In
	// this order it takes a byte of what was padding: 44 bytes a peer.
	done bool
}

// loc is where a peer sits: its list in the top 2 bits, its position in
// the low 30.
type loc uint32

// noLoc stands for the place of a peer that is not stored. Its bits still
// decode to a list (leechers6) and a position, so code that reads a loc must
// compare with noLoc first.
const noLoc = loc(1<<32 - 1)

func makeLoc(list int, pos int) loc { return loc(uint32(list)<<30 | uint32(pos)) }
func (l loc) list() int             { return int(l >> 30) }
func (l loc) pos() int              { return int(l & (1<<30 - 1)) }

// swarm is one torrent's peers. Every list supports O(1) add and remove
// (swap with the last entry) and O(1) random access for sampling.
type swarm struct {
	lists      [numLists][]peer
	index      map[peerKey]loc
	downloaded int
	lastSweep  uint32
	lastActive uint32
}

func newSwarm(now uint32) *swarm {
	return &swarm{index: make(map[peerKey]loc), lastSweep: now, lastActive: now}
}

func listFor(is4, seeder bool) int {
	switch {
	case is4 && seeder:
		return seeders4
	case is4:
		return leechers4
	case seeder:
		return seeders6
	}
	return leechers6
}

func isSeederList(list int) bool { return list == seeders4 || list == seeders6 }

func makeKey(id tracker.PeerID, ap netip.AddrPort) (peerKey, bool) {
	k := peerKey{id: id}
	a := ap.Addr().Unmap()
	port := ap.Port()
	if a.Is4() {
		b := a.As4()
		copy(k.addr[:4], b[:])
		k.addr[4], k.addr[5] = byte(port>>8), byte(port)
		return k, true
	}
	b := a.As16()
	copy(k.addr[:16], b[:])
	k.addr[16], k.addr[17] = byte(port>>8), byte(port)
	return k, false
}

// add puts a peer in list. done is the peer's mark from its previous list;
// a peer in a seeder list is always done.
func (s *swarm) add(list int, k peerKey, now uint32, done bool) loc {
	l := makeLoc(list, len(s.lists[list]))
	s.index[k] = l
	s.lists[list] = append(s.lists[list], peer{key: k, seen: now, done: done || isSeederList(list)})
	return l
}

func (s *swarm) remove(l loc) {
	list, pos := l.list(), l.pos()
	ps := s.lists[list]
	gone := ps[pos].key
	last := len(ps) - 1
	if pos != last {
		ps[pos] = ps[last]
		s.index[ps[pos].key] = makeLoc(list, pos)
	}
	ps[last] = peer{}
	s.lists[list] = ps[:last]
	delete(s.index, gone)
}

// sweep drops peers not seen since cutoff. It returns how many it dropped.
func (s *swarm) sweep(cutoff, now uint32) int {
	s.lastSweep = now
	dropped := 0
	for list := range s.lists {
		for i := 0; i < len(s.lists[list]); {
			if s.lists[list][i].seen < cutoff {
				s.remove(makeLoc(list, i))
				dropped++
				continue // the last entry moved into i
			}
			i++
		}
	}
	if dropped > 0 {
		s.shrink()
	}
	return dropped
}

// shrink gives back list memory after a swarm has lost most of its peers.
func (s *swarm) shrink() {
	for list, ps := range s.lists {
		if cap(ps) > 64 && len(ps) < cap(ps)/4 {
			s.lists[list] = append(make([]peer, 0, 2*len(ps)), ps...)
		}
	}
}

func (s *swarm) seeders() int  { return len(s.lists[seeders4]) + len(s.lists[seeders6]) }
func (s *swarm) leechers() int { return len(s.lists[leechers4]) + len(s.lists[leechers6]) }
func (s *swarm) empty() bool   { return len(s.index) == 0 }

// sample appends up to want distinct peers from lists a and b (b may be -1)
// to out, never the peer at self (the announcer's own place, if it is in one
// of them). It visits the candidates from a random start with a random stride
// coprime to their count, which picks distinct entries in O(want) time
// without allocating.
func (s *swarm) sample(a, b int, self loc, want int, entrySize int, out *tracker.SwarmAnswer, wantIDs bool) {
	la := s.lists[a]
	var lb []peer
	if b >= 0 {
		lb = s.lists[b]
	}
	na := len(la)
	n := na + len(lb)
	skip := -1 // the announcer's index among the n candidates
	switch {
	case self == noLoc:
	case self.list() == a:
		skip = self.pos()
	case self.list() == b:
		skip = na + self.pos()
	}
	if want <= 0 || n == 0 || (n == 1 && skip == 0) {
		return
	}
	emit := func(i int) {
		var p *peer
		if i < na {
			p = &la[i]
		} else {
			p = &lb[i-na]
		}
		out.Peers = append(out.Peers, p.key.addr[:entrySize]...)
		if wantIDs {
			out.PeerIDs = append(out.PeerIDs, p.key.id[:]...)
		}
	}
	others := n
	if skip >= 0 {
		others--
	}
	if want >= others {
		for i := range n {
			if i != skip {
				emit(i)
			}
		}
		return
	}
	idx := rand.IntN(n)
	step := 1
	if n > 2 {
		step = 1 + rand.IntN(n-1)
		for gcd(step, n) != 1 {
			step++
			if step == n {
				step = 1
			}
		}
	}
	for got := 0; got < want; {
		if idx != skip {
			emit(idx)
			got++
		}
		idx += step
		if idx >= n {
			idx -= n
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
