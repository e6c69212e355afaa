package swarm

import (
	"net/netip"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/candidates"
)

// Dialling: like other clients, the seeder connects to the leechers its
// trackers return. The bookkeeping (which address to dial when, how
// often) is package candidates; a Swarm keeps one list per torrent.
const (
	dialAttempts = 3
	dialRetry    = 5 * time.Second
	// MaxCandidates is one full answer of our tracker (--numwant-max):
	// at most MaxDials are dialled at a time, and the next announce
	// brings fresh addresses.
	MaxCandidates = 200
	// candidateTTL drops an address no tracker named for this long, so
	// that while the seeder is at its limits the list does not fill with
	// peers that have long left.
	candidateTTL = 10 * time.Minute
)

// newCandidates returns a torrent's empty list of peers to dial.
func newCandidates() *candidates.List {
	l, err := candidates.New(candidates.Config{Attempts: dialAttempts, Retry: dialRetry, Max: MaxCandidates, TTL: candidateTTL})
	if err != nil {
		panic(err) // the constants above are valid
	}
	return l
}

// AddCandidates records the peers a tracker or the DHT found under
// infoHash (one of the torrent's), to be dialled with it, new ones no
// sooner than wait after now, but for those self says are us and those
// connected.
func (sw *Swarm) AddCandidates(infoHash metainfo.InfoHash, peers []netip.AddrPort, self func(netip.AddrPort) bool, now time.Time, wait time.Duration) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.noteDialHash(infoHash, peers)
	fresh := make([]netip.AddrPort, 0, len(peers))
	for _, p := range peers {
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if self(p) {
			continue
		}
		if _, ok := sw.addrs[p]; ok {
			continue
		}
		fresh = append(fresh, p)
	}
	sw.candidates.AddAfter(fresh, now, wait)
}

// Dial is a candidate to dial now, with the info hash to greet it with.
type Dial struct {
	candidates.Dial
	InfoHash metainfo.InfoHash
}

// Due returns the candidates to dial now, at most room and within the
// torrent's limits, and counts them as dials until DialDone. It is called
// with no room too: the list drops stale addresses.
func (sw *Swarm) Due(now time.Time, room int) []Dial {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	room = min(room, sw.maxDials-sw.dials, sw.maxConns-len(sw.conns))
	var out []Dial
	for _, d := range sw.candidates.Due(now, room) {
		sw.dials++
		out = append(out, Dial{Dial: d, InfoHash: sw.dialHash(d.Addr)})
	}
	return out
}

// DialDone records the end of a dial: a registered peer's address was
// removed from the list; any other is retried after its back-off, or
// dropped.
func (sw *Swarm) DialDone(a netip.AddrPort, now time.Time) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.dials--
	sw.candidates.Done(a, now)
	if !sw.candidates.Has(a) {
		delete(sw.dialHashes, a)
	}
}

// Dials is the number of connections we open or are opening, Candidates
// the addresses waiting to be dialled.
func (sw *Swarm) Dials() (dials, candidates int) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.dials, sw.candidates.Len()
}

// noteDialHash records that a tracker named peers under infoHash, when it
// is not the torrent's first hash (a hybrid's v2 one), so that they are
// dialled with the hash they joined by: a peer that knows only the v2
// swarm may not know the v1 hash. It keeps at most MaxCandidates, dropping
// those no longer to be dialled first; past that, a peer gets the first
// hash, which any client holding the hybrid's info dictionary knows too.
// sw.mu is held.
func (sw *Swarm) noteDialHash(infoHash metainfo.InfoHash, peers []netip.AddrPort) {
	if infoHash == sw.infoHash {
		return
	}
	if sw.dialHashes == nil {
		sw.dialHashes = make(map[netip.AddrPort]metainfo.InfoHash)
	}
	for _, p := range peers {
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if len(sw.dialHashes) >= MaxCandidates {
			for a := range sw.dialHashes {
				if !sw.candidates.Has(a) {
					delete(sw.dialHashes, a)
				}
			}
			if len(sw.dialHashes) >= MaxCandidates {
				return
			}
		}
		sw.dialHashes[p] = infoHash
	}
}

// dialHash is the info hash to dial peer a with: the one a tracker named
// it under. sw.mu is held.
func (sw *Swarm) dialHash(a netip.AddrPort) metainfo.InfoHash {
	if h, ok := sw.dialHashes[a]; ok {
		return h
	}
	return sw.infoHash
}
