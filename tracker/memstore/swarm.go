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

// peerKey is a key of a swarm's index: a peer ID together with an
// address, so that a peer ID seen from another address is another peer; or,
// for a tagged peer (see peer.tag), the peer ID and the address family (see
// linkKey), so that its entries in the two families find each other.
type peerKey struct {
	id   tracker.PeerID
	addr [18]byte // IPv4 in the first 6 bytes, or IPv6 in all 18; port last
}

// peer is one entry of a peer list. In this layout it takes 44 bytes, as it
// did before peers had a tag: the done mark moved into seen's top bit, and
// the tag takes the 2 bytes the mark and its padding took.
type peer struct {
	// seen is the last announce in seconds since the store's epoch (low 31
	// bits: 68 years), and its top bit the done mark: the peer has seeded
	// or finished in this swarm since it arrived, so it counts no further
	// download (see tracker.Store).
	seen uint32
	key  peerKey
	// tag is 0 for a peer indexed by its address (it sent no key, or
	// another address of its family came first with its peer ID), else a
	// 16-bit hash of its key: it is then indexed by peer ID and family,
	// and tied to the entry of its other family with the same peer ID and
	// tag. The address still decides whether an announce is this entry's,
	// so a client that changes its key (aria2c sends a new one with every
	// UDP announce) keeps its entry and only re-tags it. 16 bits keep
	// the entry at 44 bytes: a client that forges another's peer ID and
	// guesses its tag (one try in 65,536) can only pair its own entry with
	// the other family's one, and one that comes first with the peer ID
	// only keeps the real entry unpaired; either changes the counts by
	// one. It can never replace or remove an entry, which the address
	// still guards.
	tag uint16
}

const doneBit = 1 << 31

func (p *peer) done() bool       { return p.seen&doneBit != 0 }
func (p *peer) lastSeen() uint32 { return p.seen &^ doneBit }
func (p *peer) mark(now uint32, done bool) {
	p.seen = now &^ doneBit
	if done {
		p.seen |= doneBit
	}
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

// Classes of dual-stack pairs (an IPv4 and an IPv6 entry with the same peer
// ID and tag) by the roles of their halves: IPv4 role, then IPv6 role.
const (
	pairSS = iota // seeder in both
	pairSL        // IPv4 seeder, IPv6 leecher
	pairLS        // IPv4 leecher, IPv6 seeder
	pairLL        // leecher in both
	numPairs
)

// swarm is one torrent's peers. Every list supports O(1) add and remove
// (swap with the last entry) and O(1) random access for sampling.
type swarm struct {
	lists [numLists][]peer
	index map[peerKey]loc
	// tagged counts the tagged entries of each family (0: IPv4), so that a
	// swarm with none in the other family costs no lookup of a twin.
	tagged [2]int32
	// pairs counts the dual-stack pairs by class: each pair counts once,
	// as a seeder when either half seeds (see seeders, leechers).
	pairs      [numPairs]int
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
func family(list int) int        { return list >> 1 } // 0: IPv4, 1: IPv6

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

// keyTag is the 16 bits of a key the memory store keeps (never 0, which
// stands for no key).
func keyTag(key uint32) uint16 {
	t := uint16((key * 0x9e3779b1) >> 16)
	if t == 0 {
		t = 1
	}
	return t
}

// linkKey is the index key of a tagged peer: its peer ID and family. One
// entry per peer ID and family is tagged, the first to come with a key;
// another address with that peer ID is indexed by its address. The key
// cannot be an address key: its port bytes (4-5 of an IPv4 key, 16-17 of
// an IPv6 one) are zero, and no stored address has port 0.
func linkKey(id tracker.PeerID, fam int) peerKey {
	k := peerKey{id: id}
	k.addr[0] = byte(4 + 2*fam)
	k.addr[3] = 0xff
	return k
}

// indexKey is the key under which the entry p of list is indexed.
func indexKey(p *peer, list int) peerKey {
	if p.tag != 0 {
		return linkKey(p.key.id, family(list))
	}
	return p.key
}

// twin returns the place of the other family's half of the tagged entry p
// of list (the tagged entry of its peer ID there, with the same tag), or
// noLoc.
func (s *swarm) twin(p *peer, list int) loc {
	other := 1 - family(list)
	if p.tag == 0 || s.tagged[other] == 0 {
		return noLoc
	}
	if l, ok := s.index[linkKey(p.key.id, other)]; ok && s.at(l).tag == p.tag {
		return l
	}
	return noLoc
}

func pairClass(list, twinList int) int {
	if family(list) == 1 {
		list, twinList = twinList, list
	}
	c := 0
	if !isSeederList(list) {
		c |= 2
	}
	if !isSeederList(twinList) {
		c |= 1
	}
	return c
}

func (s *swarm) at(l loc) *peer { return &s.lists[l.list()][l.pos()] }

// add puts a peer in list. done is the peer's mark from its previous list;
// a peer in a seeder list is always done.
func (s *swarm) add(list int, k peerKey, tag uint16, now uint32, done bool) loc {
	l := makeLoc(list, len(s.lists[list]))
	s.lists[list] = append(s.lists[list], peer{key: k, tag: tag})
	p := s.at(l)
	p.mark(now, done || isSeederList(list))
	s.index[indexKey(p, list)] = l
	if tag != 0 {
		s.tagged[family(list)]++
		if t := s.twin(p, list); t != noLoc {
			s.pairs[pairClass(list, t.list())]++
		}
	}
	return l
}

// setTag gives the tagged entry at l another tag (its client changed its
// key), which may pair it or part it from the other family's entry.
func (s *swarm) setTag(l loc, tag uint16) {
	p := s.at(l)
	if t := s.twin(p, l.list()); t != noLoc {
		s.pairs[pairClass(l.list(), t.list())]--
	}
	p.tag = tag
	if t := s.twin(p, l.list()); t != noLoc {
		s.pairs[pairClass(l.list(), t.list())]++
	}
}

// retag indexes the untagged entry at l under its peer ID and family
// instead of its address (a peer that announced without a key sends one
// now).
func (s *swarm) retag(l loc, tag uint16) {
	p := s.at(l)
	delete(s.index, p.key)
	p.tag = tag
	s.index[indexKey(p, l.list())] = l
	s.tagged[family(l.list())]++
	if t := s.twin(p, l.list()); t != noLoc {
		s.pairs[pairClass(l.list(), t.list())]++
	}
}

func (s *swarm) remove(l loc) {
	list, pos := l.list(), l.pos()
	ps := s.lists[list]
	gone := &ps[pos]
	if gone.tag != 0 {
		if t := s.twin(gone, list); t != noLoc {
			s.pairs[pairClass(list, t.list())]--
		}
		s.tagged[family(list)]--
	}
	delete(s.index, indexKey(gone, list))
	last := len(ps) - 1
	if pos != last {
		ps[pos] = ps[last]
		s.index[indexKey(&ps[pos], list)] = makeLoc(list, pos)
	}
	ps[last] = peer{}
	s.lists[list] = ps[:last]
}

// sweep drops peers not seen since cutoff. It returns how many it dropped.
func (s *swarm) sweep(cutoff, now uint32) int {
	s.lastSweep = now
	dropped := 0
	for list := range s.lists {
		for i := 0; i < len(s.lists[list]); {
			if s.lists[list][i].lastSeen() < cutoff {
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

// seeders and leechers count each dual-stack pair once: a pair that seeds
// in both families is one seeder; one that leeches in either is counted
// once, and as a seeder when the other half seeds (a client that has
// everything by one family's announce has it: the other family's announce
// is late, or the peer is an origin fetching a lost piece, which is
// recovering, not downloading).
func (s *swarm) seeders() int {
	return len(s.lists[seeders4]) + len(s.lists[seeders6]) - s.pairs[pairSS]
}

func (s *swarm) leechers() int {
	return len(s.lists[leechers4]) + len(s.lists[leechers6]) - s.pairs[pairSL] - s.pairs[pairLS] - s.pairs[pairLL]
}

func (s *swarm) empty() bool { return len(s.index) == 0 }

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
