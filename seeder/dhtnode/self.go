package dhtnode

import (
	"net"
	"net/netip"
)

// Our own address in answers to get_peers for the torrents we serve.
//
// Config.PeerIP (the seeder's --announce-ip) or a specific listen address
// says it. A node on a wildcard address without PeerIP (or asked over the
// other address family than PeerIP's) does not know it: the host may have
// many addresses, of both families. It then answers each querier with the
// local address its answer comes from: the source address the kernel
// picks to reach the querier, which is how a wildcard socket's replies
// leave. That is the address the querier sees us at, of its own family,
// and no guess: were it not one the querier reaches us at, the querier
// would not match our reply to its query anyway (a DHT node takes replies
// from the address it queried). It is also the address the query arrived
// on, but for asymmetric routing, for which the same holds. It is found
// by connecting a UDP socket to the querier, which sends nothing.
//
// The one case where it is wrong is NAT: the querier sees the NAT's
// address, not ours. So a querier on a public address is given only a
// public address of ours; behind NAT, without PeerIP, we are left out of
// our own answers (the nodes our announce_peer reaches still learn our
// public address, which they see). The DHT's "ip" field (BEP 42), by
// which nodes tell us the address they see us at, would name the NAT's
// address, but only in replies to our own queries, and from nodes that
// may lie: PeerIP is the reliable way.

// selfFor is the seeder's IP to give querier, or an invalid Addr when
// none is known.
func (n *Node) selfFor(querier netip.Addr) netip.Addr {
	if n.selfIP.IsValid() && (!n.wildcard || n.cfg.OnlyPeerIP || !querier.IsValid() || n.selfIP.Is4() == querier.Is4()) {
		return n.selfIP
	}
	if n.wildcard && querier.IsValid() {
		if local, ok := routeSource(querier); ok && reachableFrom(local, querier) {
			return local
		}
	}
	return n.selfIP
}

// routeSource is the local address the host sends from to reach dst.
func routeSource(dst netip.Addr) (netip.Addr, bool) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, false
	}
	defer c.Close()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil || ap.Addr().IsUnspecified() {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// reachableFrom reports whether a querier at querier can be expected to
// reach us at local: a public querier only a public address (else local
// is behind NAT), a querier on a private or loopback network any address
// of ours it routes to.
func reachableFrom(local, querier netip.Addr) bool {
	if public(querier) {
		return public(local)
	}
	return true
}

// sharedSpace is 100.64.0.0/10, the carrier-grade NAT range (RFC 6598).
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether ip is a global unicast address outside the
// private and shared (carrier-grade NAT) ranges.
func public(ip netip.Addr) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !sharedSpace.Contains(ip)
}
