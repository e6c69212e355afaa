package dhtnode

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2"
	"golang.org/x/time/rate"
)

// Nodes that peers name in port messages (BEP 5) are pinged, so that
// those that answer enter the routing table. A peer can send any number
// of port messages, naming any port at its address, so the pinging is
// bounded: each address once per pingRepeat, each IP a few times and then
// once a minute, all of them together at pingRate, with at most
// maxPendingPings waiting and maxPingsInFlight awaiting an answer; the
// rest are dropped. What is remembered for this is bounded too
// (maxRecentPings addresses, maxTrackedIPs IPs).
const (
	pingRate         = 5
	pingPerIPRate    = 1.0 / 60
	pingPerIPBurst   = 3
	pingRepeat       = 15 * time.Minute
	maxRecentPings   = 4096
	maxPendingPings  = 32
	maxPingsInFlight = 8
	// pingTries are the ping's sends, pingTimeout the wait for an answer.
	pingTries   = 2
	pingTimeout = 10 * time.Second
)

// Outcomes of Introduce and of the pings, for the metrics.
var (
	introduceResults = []string{"queued", "duplicate", "limited", "invalid"}
	pingResults      = []string{"answered", "no_answer", "known"}
)

// pinger keeps the nodes to ping and the bounds on pinging them.
type pinger struct {
	now     func() time.Time
	perIP   *ipLimiter
	limit   *rate.Limiter
	pending chan netip.AddrPort

	mu     sync.Mutex
	recent map[netip.AddrPort]time.Time // when each address was queued
	swept  time.Time                    // when recent was last cleared of old ones
}

func newPinger(now func() time.Time) *pinger {
	return &pinger{
		now:     now,
		perIP:   newIPLimiter(pingPerIPRate, pingPerIPBurst, now),
		limit:   rate.NewLimiter(pingRate, pingRate),
		pending: make(chan netip.AddrPort, maxPendingPings),
		recent:  map[netip.AddrPort]time.Time{},
	}
}

// admit queues a to be pinged unless it was lately, its IP is over its
// rate or the queue is full; it returns the outcome.
func (p *pinger) admit(a netip.AddrPort) string {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.recent[a]; ok && now.Sub(at) < pingRepeat {
		return "duplicate"
	}
	// Cheap refusals first: a flood of port messages must not cost a scan
	// each, nor leave state behind.
	if len(p.pending) == cap(p.pending) {
		return "limited"
	}
	if len(p.recent) >= maxRecentPings {
		if now.Sub(p.swept) < time.Second {
			return "limited"
		}
		p.swept = now
		for k, at := range p.recent {
			if now.Sub(at) >= pingRepeat {
				delete(p.recent, k)
			}
		}
		if len(p.recent) >= maxRecentPings {
			return "limited"
		}
	}
	if !p.perIP.allow(a.Addr()) {
		return "limited"
	}
	select {
	case p.pending <- a:
	default:
		return "limited"
	}
	p.recent[a] = now
	return "queued"
}

// Introduce tells the node of another DHT node, at the address of a peer
// that set the DHT bit and the port of its port message (BEP 5): the node
// pings it, within the bounds above, and if it answers it enters the
// routing table as any node that answers does. Nodes the node's socket
// cannot reach (another address family), our own node, and addresses no
// node can have are ignored.
func (n *Node) Introduce(a netip.AddrPort) {
	if n == nil {
		return
	}
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if !n.canReach(a) {
		n.m.introduced("invalid")
		return
	}
	n.m.introduced(n.pinger.admit(a))
}

// canReach reports whether a may be a node our socket can send to.
func (n *Node) canReach(a netip.AddrPort) bool {
	ip := a.Addr()
	if a.Port() == 0 || !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	self := n.Addr()
	if a.Port() == self.Port() && (ip == self.Addr().Unmap() || ip.IsLoopback() || ip == n.cfg.PeerIP) {
		return false
	}
	// A socket bound to an address of one family sends only to that
	// family; a wildcard one (the unspecified IPv6 address) to both.
	switch bound := self.Addr(); {
	case bound.Is4() || bound.Is4In6():
		return ip.Is4()
	case bound.IsUnspecified():
		return true
	default:
		return ip.Is6()
	}
}

// pingLoop pings the nodes Introduce queued, until Close.
func (n *Node) pingLoop() {
	slots := make(chan struct{}, maxPingsInFlight)
	for {
		var a netip.AddrPort
		select {
		case <-n.ctx.Done():
			return
		case a = <-n.pinger.pending:
		}
		if err := n.pinger.limit.Wait(n.ctx); err != nil {
			return
		}
		if n.inTable(a) {
			n.m.pinged("known")
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-n.ctx.Done():
			return
		}
		n.wg.Go(func() {
			defer func() { <-slots }()
			ctx, cancel := context.WithTimeout(n.ctx, pingTimeout)
			defer cancel()
			// A node that answers is added to the routing table by the
			// library, as is every node that answers a query of ours.
			res := n.srv.Query(ctx, dht.NewAddr(net.UDPAddrFromAddrPort(a)), "ping", dht.QueryInput{NumTries: pingTries})
			if res.Err == nil {
				n.m.pinged("answered")
			} else {
				n.m.pinged("no_answer")
			}
		})
	}
}

// inTable reports whether a node at a is in the routing table.
func (n *Node) inTable(a netip.AddrPort) bool {
	return slices.Contains(n.NodeAddrs(), a)
}
