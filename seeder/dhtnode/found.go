package dhtnode

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2/krpc"

	"github.com/bitorigin/bitorigin/metainfo"
)

// Peers the node finds for the torrents it announces are handed to the
// seeder, which dials them: a leecher that found us only through the DHT
// may never dial us itself (Transmission does not dial a loopback or local
// peer, and a leecher behind NAT cannot be dialled back but can dial), and
// one that announced itself only to our node is known only to it.

// foundSources label where found peers came from.
var foundSources = []string{"traversal", "announce_peer"}

const (
	// maxFoundBatches bounds the batches of found peers waiting for the
	// OnPeers function; more are dropped (the seeder's dialler keeps at
	// most a few hundred addresses per torrent anyway).
	maxFoundBatches = 64
	// localAddrsTTL is how long the host's interface addresses are
	// cached, to tell our own address among the peers found.
	localAddrsTTL = time.Minute
)

// foundBatch is peers found for one info hash.
type foundBatch struct {
	h     metainfo.InfoHash
	peers []netip.AddrPort
}

// OnPeers sets the function given the peers found for a torrent the node
// announces (one of those Announce was called for and not Withdraw): the
// peers other nodes name in answers to our announce's get_peers, and
// those that announce the torrent to our node. It is called from one
// goroutine of the node's, never with the node's locks held, with at most
// maxValues distinct peers at a time, never our own address; batches that
// arrive faster than it returns are dropped past maxFoundBatches. nil
// stops the calls.
func (n *Node) OnPeers(f func(h metainfo.InfoHash, peers []netip.AddrPort)) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.onPeers = f
	n.mu.Unlock()
}

// found passes peers found for h by source to the OnPeers function,
// without blocking, when h is announced.
func (n *Node) found(h metainfo.InfoHash, source string, addrs []krpc.NodeAddr) {
	n.mu.Lock()
	t, f := n.torrents[h], n.onPeers
	var port uint16
	if t != nil {
		port = t.port
	}
	n.mu.Unlock()
	if t == nil || f == nil {
		return
	}
	var peers []netip.AddrPort
	for _, na := range addrs {
		if len(peers) == maxValues {
			break
		}
		ip, ok := netip.AddrFromSlice(na.IP)
		if !ok || na.Port <= 0 || na.Port > 65535 {
			continue
		}
		a := netip.AddrPortFrom(ip.Unmap(), uint16(na.Port))
		if !usablePeer(a.Addr()) || (a.Port() == port && n.isOwnIP(a.Addr())) || containsAddr(peers, a) {
			continue
		}
		peers = append(peers, a)
	}
	if len(peers) == 0 {
		return
	}
	select {
	case n.foundQ <- foundBatch{h: h, peers: peers}:
		n.m.foundPeers(source, len(peers))
	default:
		n.log.Debug("dht: found peers dropped: the seeder is not taking them", "info_hash", h.String(), "peers", len(peers))
	}
}

func containsAddr(s []netip.AddrPort, a netip.AddrPort) bool {
	for _, b := range s {
		if a == b {
			return true
		}
	}
	return false
}

// usablePeer reports whether a peer may be at ip.
func usablePeer(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast() && ip != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// deliverLoop calls the OnPeers function with each batch found, until
// Close.
func (n *Node) deliverLoop() {
	for {
		select {
		case <-n.ctx.Done():
			return
		case b := <-n.foundQ:
			n.mu.Lock()
			f := n.onPeers
			n.mu.Unlock()
			if f != nil {
				f(b.h, b.peers)
			}
		}
	}
}

// isOwnIP reports whether ip is one of ours: loopback, the peer IP we
// give, or an address of one of the host's interfaces.
func (n *Node) isOwnIP(ip netip.Addr) bool {
	if ip.IsLoopback() || ip == n.cfg.PeerIP || ip == n.Addr().Addr().Unmap() {
		return true
	}
	return n.local.has(ip)
}

// localAddrs caches the host's interface addresses.
type localAddrs struct {
	mu    sync.Mutex
	at    time.Time
	addrs map[netip.Addr]bool
}

func (l *localAddrs) has(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := time.Now(); l.addrs == nil || now.Sub(l.at) > localAddrsTTL {
		l.at, l.addrs = now, map[netip.Addr]bool{}
		if as, err := net.InterfaceAddrs(); err == nil {
			for _, a := range as {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					l.addrs[p.Addr().Unmap()] = true
				}
			}
		}
	}
	return l.addrs[ip]
}
