package seeder

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/peer"
	"github.com/bitorigin/bitorigin/seeder/swarm"
)

// Dialling: like other clients, the seeder connects to the leechers its
// trackers return. Some clients (Transmission) never dial a loopback or
// local peer themselves, so without this they would never download. Each
// swarm keeps its list of candidates (package swarm, with the bookkeeping
// of package candidates); this file dials them within the seeder's
// limits.
const dialTick = time.Second

// addCandidatesUnder records the peers a tracker returned for one of
// sw's info hashes, to be dialled with that hash.
func (s *Seeder) addCandidatesUnder(sw *seeded, infoHash metainfo.InfoHash, peers []netip.AddrPort) {
	s.addCandidatesAfter(sw, infoHash, peers, 0)
}

// addCandidates records the peers a tracker returned, to be dialled.
func (s *Seeder) addCandidates(sw *seeded, peers []netip.AddrPort) {
	s.addCandidatesUnder(sw, sw.InfoHash(), peers)
}

// addCandidatesAfter records peers found under infoHash to be dialled
// with it, new ones no sooner than wait from now.
func (s *Seeder) addCandidatesAfter(sw *seeded, infoHash metainfo.InfoHash, peers []netip.AddrPort, wait time.Duration) {
	now := time.Now()
	sw.swarm.AddCandidates(infoHash, peers, s.isSelf, now, wait)
	// Do not wait for the next tick: the first dial is the one a
	// Transmission leecher waits for.
	s.mu.Lock()
	s.dialDue(now)
	s.mu.Unlock()
}

// isSelf reports whether a peer address is our own listening address, as
// a tracker may return it. It takes no lock.
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
		room := s.cfg.MaxConns - s.gate.Len() - s.outgoing
		for _, d := range sw.swarm.Due(now, room) {
			s.outgoing++
			s.dialing++
			s.wg.Go(func() { s.dial(ctx, sw, d) })
		}
	}
}

// dial connects to one candidate, greets it with the info hash it was
// named under and serves the connection; then tells the swarm how it
// went.
func (s *Seeder) dial(ctx context.Context, sw *seeded, d swarm.Dial) {
	dl := net.Dialer{Timeout: s.cfg.HandshakeTimeout}
	nc, err := dl.DialContext(ctx, "tcp", d.Addr.String())
	s.mu.Lock()
	s.dialing--
	s.mu.Unlock()
	if err == nil {
		var c *peer.Conn
		if c, err = peer.Open(ctx, s.peerCfg, sw.peer, d.InfoHash, d.Addr, nc); err == nil {
			c.Run(ctx)
		}
	}
	s.mu.Lock()
	s.outgoing--
	s.mu.Unlock()
	sw.swarm.DialDone(d.Addr, time.Now())
	if err != nil {
		s.log.Debug("dial failed", "peer", d.Addr, "name", sw.Name(), "attempt", d.Attempt, "err", err)
	}
}
