package dhtnode

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
)

// Bounds of the peer store, so that announces for made-up info hashes
// cannot grow it without limit. Each announce_peer needs a token we gave
// the announcing IP, so the peers are at least reachable addresses.
const (
	// peerTTL is how long an announced peer is kept: BEP 5 leaves it to
	// the node; libtorrent keeps peers 45 minutes, and announcers repeat
	// every 15 to 30.
	peerTTL = 45 * time.Minute
	// maxInfoHashes bounds the info hashes with stored peers.
	maxInfoHashes = 10000
	// maxPeersPerHash bounds the peers kept per info hash; the oldest goes.
	maxPeersPerHash = 100
	// maxValues bounds the peers in one get_peers answer, to keep it in
	// one UDP packet.
	maxValues = 50
)

// peerStore holds the peers other nodes announced to us, and answers
// get_peers with them, preceded by the seeder itself for the torrents it
// serves. Unlike the library's in-memory store it keys peers by address
// and port, not address alone: many peers share an IP behind NAT (and on
// loopback in tests).
type peerStore struct {
	// self returns the seeder's address for a torrent it serves.
	self func(h [20]byte) (netip.AddrPort, bool)
	now  func() time.Time
	// added, when set, is told of each peer announced, stored or not;
	// it must not block.
	added func(h [20]byte, a krpc.NodeAddr)

	mu    sync.Mutex
	peers map[[20]byte]map[netip.AddrPort]time.Time
	n     int
}

var _ peer_store.Interface = (*peerStore)(nil)

func newPeerStore(self func([20]byte) (netip.AddrPort, bool), now func() time.Time) *peerStore {
	return &peerStore{self: self, now: now, peers: map[[20]byte]map[netip.AddrPort]time.Time{}}
}

// AddPeer records a peer that announced itself for h.
func (p *peerStore) AddPeer(h peer_store.InfoHash, na krpc.NodeAddr) {
	ip, ok := netip.AddrFromSlice(na.IP)
	if !ok || na.Port <= 0 || na.Port > 65535 {
		return
	}
	a := netip.AddrPortFrom(ip.Unmap(), uint16(na.Port))
	p.store(h, a)
	// Told even when the store is full: it is of use for a torrent we
	// serve, and those are few.
	if p.added != nil {
		p.added(h, na)
	}
}

// store records a peer for h, unless the store is full.
func (p *peerStore) store(h [20]byte, a netip.AddrPort) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	set := p.peers[h]
	if set == nil {
		if len(p.peers) >= maxInfoHashes {
			p.expire(now)
			if len(p.peers) >= maxInfoHashes {
				return
			}
		}
		set = map[netip.AddrPort]time.Time{}
		p.peers[h] = set
	}
	if _, ok := set[a]; !ok {
		if len(set) >= maxPeersPerHash {
			var oldest netip.AddrPort
			var at time.Time
			for k, t := range set {
				if at.IsZero() || t.Before(at) {
					oldest, at = k, t
				}
			}
			delete(set, oldest)
			p.n--
		}
		p.n++
	}
	set[a] = now
}

// expire drops every peer older than peerTTL; p.mu is held.
func (p *peerStore) expire(now time.Time) {
	for h, set := range p.peers {
		for a, t := range set {
			if now.Sub(t) > peerTTL {
				delete(set, a)
				p.n--
			}
		}
		if len(set) == 0 {
			delete(p.peers, h)
		}
	}
}

// GetPeers returns the seeder first when it serves h, then the peers
// that announced h lately.
func (p *peerStore) GetPeers(h peer_store.InfoHash) []krpc.NodeAddr {
	var out []krpc.NodeAddr
	self, serving := p.self(h)
	if serving {
		out = append(out, nodeAddr(self))
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for a, t := range p.peers[h] {
		if len(out) >= maxValues {
			break
		}
		if now.Sub(t) > peerTTL || (serving && a == self) {
			continue
		}
		out = append(out, nodeAddr(a))
	}
	return out
}

// len is the number of peers stored.
func (p *peerStore) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func nodeAddr(a netip.AddrPort) krpc.NodeAddr {
	ip := a.Addr()
	var b net.IP
	if ip.Is4() {
		v := ip.As4()
		b = net.IP(v[:])
	} else {
		v := ip.As16()
		b = net.IP(v[:])
	}
	return krpc.NodeAddr{IP: b, Port: int(a.Port())}
}
