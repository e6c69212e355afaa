package seeder

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/candidates"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// Dialling: like other clients, the seeder connects to the leechers its
// trackers return. Some clients (Transmission) never dial a loopback or
// local peer themselves, so without this they would never download. The
// bookkeeping (which address to dial when, how often) is package
// candidates; this file carries its answers out.
const (
	dialAttempts = 3
	dialRetry    = 5 * time.Second
	dialTick     = time.Second
	// maxCandidates is one full answer of our tracker (--numwant-max):
	// at most MaxDialsPerTorrent are dialled at a time, and the next
	// announce brings fresh addresses.
	maxCandidates = 200
	// candidateTTL drops an address no tracker named for this long, so
	// that while the seeder is at its limits the list does not fill with
	// peers that have long left.
	candidateTTL = 10 * time.Minute
)

// newCandidates returns a torrent's empty list of peers to dial.
func newCandidates() *candidates.List {
	l, err := candidates.New(candidates.Config{Attempts: dialAttempts, Retry: dialRetry, Max: maxCandidates, TTL: candidateTTL})
	if err != nil {
		panic(err) // the constants above are valid
	}
	return l
}

// addCandidatesUnder records the peers a tracker returned for one of
// sw's info hashes, to be dialled with that hash.
func (s *Seeder) addCandidatesUnder(sw *swarm, infoHash metainfo.InfoHash, peers []netip.AddrPort) {
	s.mu.Lock()
	sw.noteDialHash(infoHash, peers)
	s.mu.Unlock()
	s.addCandidates(sw, peers)
}

// addCandidates records the peers a tracker returned, to be dialled.
func (s *Seeder) addCandidates(sw *swarm, peers []netip.AddrPort) {
	s.addCandidatesAfter(sw, peers, 0)
}

// addCandidatesAfter records peers to be dialled, new ones no sooner than
// wait from now.
func (s *Seeder) addCandidatesAfter(sw *swarm, peers []netip.AddrPort, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	fresh := make([]netip.AddrPort, 0, len(peers))
	for _, p := range peers {
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if s.isSelf(p) {
			continue
		}
		if _, ok := sw.addrs[p]; ok {
			continue
		}
		fresh = append(fresh, p)
	}
	sw.candidates.AddAfter(fresh, now, wait)
	// Do not wait for the next tick: the first dial is the one a
	// Transmission leecher waits for.
	s.dialDue(now)
}

// isSelf reports whether a peer address is our own listening address, as
// a tracker may return it. s.mu is held.
func (s *Seeder) isSelf(p netip.AddrPort) bool {
	if p.Port() != uint16(s.port.Load()) && p.Port() != s.cfg.AnnouncePort {
		return false
	}
	a := p.Addr()
	return a.IsLoopback() || a.IsUnspecified() || a == s.cfg.AnnounceIP
}

// dialLoop dials due candidates every second until ctx is done.
func (s *Seeder) dialLoop(ctx context.Context) {
	tick := time.NewTicker(dialTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			s.dialDue(now)
			s.mu.Unlock()
		}
	}
}

// dialDue starts a dial to every candidate that is due, within the limits.
// s.mu is held.
func (s *Seeder) dialDue(now time.Time) {
	ctx := s.dialCtx
	if s.closed || ctx == nil {
		return
	}
	for _, sw := range s.list {
		room := min(s.cfg.MaxConns-s.gate.Len()-s.outgoing, s.cfg.MaxDialsPerTorrent-sw.dials,
			s.cfg.MaxConnsPerTorrent-sw.conns)
		// Called with no room too: the list drops stale addresses.
		for _, d := range sw.candidates.Due(now, room) {
			sw.dials++
			s.outgoing++
			s.dialing++
			h := sw.dialHash(d.Addr)
			s.wg.Go(func() { s.dial(ctx, sw, h, d) })
		}
	}
}

// dial connects to one candidate, greets it with infoHash and serves the
// connection; then tells the candidates how it went.
func (s *Seeder) dial(ctx context.Context, sw *swarm, infoHash metainfo.InfoHash, d candidates.Dial) {
	dl := net.Dialer{Timeout: s.cfg.HandshakeTimeout}
	nc, err := dl.DialContext(ctx, "tcp", d.Addr.String())
	s.mu.Lock()
	s.dialing--
	s.mu.Unlock()
	if err == nil {
		var c *peer.Conn
		if c, err = peer.Open(ctx, s.peerCfg, sw.peer, infoHash, d.Addr, nc); err == nil {
			c.Run(ctx)
		}
	}
	s.mu.Lock()
	sw.dials--
	s.outgoing--
	// A registered peer's address was removed from the list; any other
	// is retried after its back-off, or dropped.
	sw.candidates.Done(d.Addr, time.Now())
	if !sw.candidates.Has(d.Addr) {
		delete(sw.dialHashes, d.Addr)
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Debug("dial failed", "peer", d.Addr, "name", sw.Name(), "attempt", d.Attempt, "err", err)
	}
}

// noteDialHash records that a tracker named peers under infoHash, when it
// is not the torrent's first hash (a hybrid's v2 one), so that they are
// dialled with the hash they joined by: a peer that knows only the v2
// swarm may not know the v1 hash. It keeps at most maxCandidates, dropping
// those no longer to be dialled first; past that, a peer gets the first
// hash, which any client holding the hybrid's info dictionary knows too.
// s.mu is held.
func (sw *swarm) noteDialHash(infoHash metainfo.InfoHash, peers []netip.AddrPort) {
	if infoHash == sw.InfoHash() {
		return
	}
	if sw.dialHashes == nil {
		sw.dialHashes = make(map[netip.AddrPort]metainfo.InfoHash)
	}
	for _, p := range peers {
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if len(sw.dialHashes) >= maxCandidates {
			for a := range sw.dialHashes {
				if !sw.candidates.Has(a) {
					delete(sw.dialHashes, a)
				}
			}
			if len(sw.dialHashes) >= maxCandidates {
				return
			}
		}
		sw.dialHashes[p] = infoHash
	}
}

// dialHash is the info hash to dial peer a with: the one a tracker named
// it under. s.mu is held.
func (sw *swarm) dialHash(a netip.AddrPort) metainfo.InfoHash {
	if h, ok := sw.dialHashes[a]; ok {
		return h
	}
	return sw.InfoHash()
}
