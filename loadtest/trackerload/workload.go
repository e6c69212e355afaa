package trackerload

import (
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// torrentSize is the size every simulated torrent claims: what a
// leecher's left starts at. Trackers only store it as seeder or leecher.
const torrentSize = 1 << 30

// InfoHashes returns the info hashes of a run with n torrents and the given
// seed, so that a tracker that serves only listed torrents (opentracker's
// whitelist) can be told them in advance. They are SHA-1 digests of a
// fixed text, the same on every machine.
func InfoHashes(n int, seed uint64) [][20]byte {
	hs := make([][20]byte, n)
	var buf []byte
	for i := range hs {
		buf = fmt.Appendf(buf[:0], "bitorigin loadtest seed %d torrent %d", seed, i)
		hs[i] = sha1.Sum(buf)
	}
	return hs
}

// torrent is one simulated torrent.
type torrent struct {
	hash [20]byte
	// escaped is the info hash percent-encoded for a query string, done
	// once so that building a request copies bytes and formats nothing.
	escaped []byte
}

// peerState is where a simulated peer is in its life.
type peerState uint8

const (
	inactive peerState = iota // not in the swarm: next comes started
	leeching
	seeding
)

// peer is one simulated peer. Its fields other than the lock, torrent,
// id, port and key change only under mu.
type peer struct {
	mu      sync.Mutex
	torrent int32
	port    uint16
	key     uint32
	id      [20]byte // ASCII only, so it needs no escaping
	state   peerState
	left    int64
	up      int64
	down    int64
	// interval is the scaled announce interval the tracker last gave,
	// in realistic mode.
	interval time.Duration
}

// workload is the simulated population: torrents, peers and the mix of
// what they do.
type workload struct {
	torrents []torrent
	peers    []peer
	mix      Mix
	seeders  float64 // share of started peers that start as seeders
}

func newWorkload(cfg *Config) (*workload, error) {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6c6f6164))
	hashes := InfoHashes(cfg.Torrents, cfg.Seed)
	w := &workload{
		torrents: make([]torrent, len(hashes)),
		peers:    make([]peer, cfg.Peers),
		mix:      cfg.Mix,
		seeders:  cfg.SeederShare,
	}
	for i, h := range hashes {
		w.torrents[i] = torrent{hash: h, escaped: appendEscaped(nil, h[:])}
	}
	s, err := newSampler(cfg.Popularity, len(w.torrents), r)
	if err != nil {
		return nil, err
	}
	for i := range w.peers {
		p := &w.peers[i]
		p.torrent = int32(s.draw(r))
		// Ports spread over 1024..65535; peers beyond that many differ by
		// peer ID alone, which trackers accept (they all share one IP).
		p.port = uint16(1024 + i%64512)
		p.key = r.Uint32()
		// Azureus style, then the peer's number: unique, and no byte that
		// needs escaping.
		copy(p.id[:], fmt.Sprintf("-LT0001-%012d", i))
	}
	return w, nil
}

// allowedIn lists the actions a peer in each state can take: only an
// inactive peer starts, only a leecher completes, an inactive peer neither
// announces nor stops.
var allowedIn = [3][numActions]bool{
	inactive: {ActionStarted: true, ActionScrape: true},
	leeching: {ActionNone: true, ActionCompleted: true, ActionStopped: true, ActionScrape: true},
	seeding:  {ActionNone: true, ActionStopped: true, ActionScrape: true},
}

// fallbackIn is what a peer in each state does when the mix allows
// nothing it can do.
var fallbackIn = [3]Action{inactive: ActionStarted, leeching: ActionNone, seeding: ActionNone}

// probes is how many random peers pick tries for one that can take the
// drawn action before it takes a peer as it is.
const probes = 16

// pick draws an action from the mix and a peer that can take it, and
// returns the peer locked: the caller calls done. When no probed peer can
// take the action, it returns a free probed peer with an action drawn for
// its state, so the realised mix follows the weights as closely as the
// population allows; the report counts what was actually sent.
func (w *workload) pick(r *rand.Rand) (*peer, Action) {
	want := w.mix.draw(r, &[numActions]bool{true, true, true, true, true}, ActionNone)
	var spare *peer
	for range probes {
		p := &w.peers[r.IntN(len(w.peers))]
		if !p.mu.TryLock() {
			continue
		}
		if allowedIn[p.state][want] {
			if spare != nil {
				spare.mu.Unlock()
			}
			return p, want
		}
		if spare == nil {
			spare = p
		} else {
			p.mu.Unlock()
		}
	}
	if spare == nil {
		// Every probe found a peer in flight: fewer peers than requests
		// in flight. Wait for one.
		spare = &w.peers[r.IntN(len(w.peers))]
		spare.mu.Lock()
	}
	return spare, w.choose(spare, r)
}

// choose draws what peer p, locked, does next by the mix, among what its
// state allows.
func (w *workload) choose(p *peer, r *rand.Rand) Action {
	return w.mix.draw(r, &allowedIn[p.state], fallbackIn[p.state])
}

// due returns what realistic peer p, locked, does when it is due: a peer
// out of the swarm comes back with started, as a client restarting does;
// one in the swarm acts by the mix.
func (w *workload) due(p *peer, r *rand.Rand) Action {
	if p.state == inactive {
		return ActionStarted
	}
	return w.choose(p, r)
}

// apply moves locked peer p through action a and fills q for the request
// that reports it.
func (w *workload) apply(p *peer, a Action, r *rand.Rand, q *query) {
	switch a {
	case ActionStarted:
		p.left, p.state = torrentSize, leeching
		if r.Float64() < w.seeders {
			p.left, p.state = 0, seeding
		}
	case ActionNone:
		// Some progress since last time, as a real client would report.
		if p.state == leeching {
			step := min(p.left, torrentSize/64)
			p.left -= step
			p.down += step
		}
		p.up += 1 << 20
	case ActionCompleted:
		p.down += p.left
		p.left, p.state = 0, seeding
	case ActionStopped:
		p.state = inactive
	}
	*q = query{action: a, t: &w.torrents[p.torrent], p: p, left: p.left, up: p.up, down: p.down}
}

// appendEscaped percent-encodes b for a query string: every byte that is
// not unreserved (RFC 3986) becomes %XX.
func appendEscaped(dst, b []byte) []byte {
	const hexDigits = "0123456789ABCDEF"
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}
