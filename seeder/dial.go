package seeder

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// Dialling: like other clients, the seeder connects to the leechers its
// trackers return. Some clients (Transmission) never dial a loopback or
// local peer themselves, so without this they would never download.
const (
	dialAttempts = 3
	dialRetry    = 5 * time.Second
	dialTick     = time.Second
)

// addCandidates records the peers a tracker returned, to be dialled.
func (s *Seeder) addCandidates(sw *swarm, peers []netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, p := range peers {
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if s.isSelf(p) {
			continue
		}
		if _, ok := sw.addrs[p]; ok {
			continue
		}
		if t, ok := sw.candidate[p]; ok {
			t.attempts = 0
			continue
		}
		sw.candidate[p] = &target{next: now}
	}
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
		for addr, t := range sw.candidate {
			if s.gate.Len()+s.outgoing >= s.cfg.MaxConns || sw.dials >= s.cfg.MaxDialsPerTorrent ||
				sw.conns >= s.cfg.MaxConnsPerTorrent {
				break
			}
			if t.next.After(now) || t.attempts < 0 {
				continue
			}
			if _, ok := sw.addrs[addr]; ok {
				delete(sw.candidate, addr)
				continue
			}
			t.attempts++
			t.next = now.Add(dialRetry * time.Duration(t.attempts))
			if t.attempts > dialAttempts {
				delete(sw.candidate, addr)
				continue
			}
			t.attempts = -t.attempts // in flight
			sw.dials++
			s.outgoing++
			s.dialing++
			s.wg.Go(func() { s.dial(ctx, sw, addr, t) })
		}
	}
}

// dial connects to one candidate and serves the connection.
func (s *Seeder) dial(ctx context.Context, sw *swarm, addr netip.AddrPort, t *target) {
	d := net.Dialer{Timeout: s.cfg.HandshakeTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr.String())
	s.mu.Lock()
	s.dialing--
	t.attempts = -t.attempts
	attempt := t.attempts
	s.mu.Unlock()
	if err == nil {
		err = s.dialHandshake(ctx, sw, addr, nc)
	}
	s.mu.Lock()
	sw.dials--
	s.outgoing--
	s.mu.Unlock()
	if err != nil {
		s.log.Debug("dial failed", "peer", addr, "name", sw.Name(), "attempt", attempt, "err", err)
	}
}
