package dhtnode

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metainfo"
)

// memConn is a socket whose packets come from a channel and whose
// writes go nowhere: the fuzz target's packets reach the node without a
// network.
type memConn struct {
	in     chan memPacket
	closed chan struct{}
	once   sync.Once
}

type memPacket struct {
	data []byte
	from *net.UDPAddr
}

func newMemConn() *memConn {
	return &memConn{in: make(chan memPacket), closed: make(chan struct{})}
}

func (c *memConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-c.in:
		return copy(b, p.data), p.from, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *memConn) WriteTo(b []byte, a net.Addr) (int, error) { return len(b), nil }
func (c *memConn) Close() error                              { c.once.Do(func() { close(c.closed) }); return nil }
func (c *memConn) LocalAddr() net.Addr {
	return net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:6881"))
}
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// send hands the node one packet and returns once it was processed: the
// library reads the next packet only after handling the one before.
func (c *memConn) send(data []byte, from netip.AddrPort) {
	c.in <- memPacket{data, net.UDPAddrFromAddrPort(from)}
	c.in <- memPacket{nil, net.UDPAddrFromAddrPort(from)}
}

// FuzzNodePacket feeds the node arbitrary UDP packets from arbitrary
// loopback sources, with a torrent announced: none may crash it, and what
// it keeps stays within its bounds.
func FuzzNodePacket(f *testing.F) {
	h := metainfo.InfoHash{1, 2, 3}
	for _, s := range []string{
		"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
		"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
		"d1:ad2:id20:abcdefghij01234567899:info_hash20:" + string(h[:]) + "e1:q9:get_peers1:t2:aa1:y1:qe",
		"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:" + string(h[:]) + "4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
		"d1:rd2:id20:0123456789abcdefghij5:nodes26:" + string(make([]byte, 26)) + "e1:t2:aa1:y1:re",
		"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
		"d1:ad2:id20:abcdefghij01234567894:wantl2:n42:n6ee1:q9:get_peers1:t2:aa1:y1:qe",
		"d1:q4:ping1:t0:1:y1:qe",
		// Crashed the library (v2.23.0) until onQuery refused them.
		"d1:q13:announce_peer1:t2:aa1:y1:qe",
		"d1:ad2:id20:abcdefghij0123456789e1:q3:put1:t2:aa1:y1:qe",
		"d1:ad2:id20:abcdefghij0123456789e1:q3:get1:t2:aa1:y1:qe",
		"d",
		"l1:ae",
	} {
		f.Add([]byte(s), byte(2), uint16(6881))
	}
	conn := newMemConn()
	n, err := Start(Config{Conn: conn, PerIPRate: 1e6, Registerer: prometheus.NewRegistry()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	n.Announce(h, 6881)
	n.OnPeers(func(metainfo.InfoHash, []netip.AddrPort) {})
	f.Fuzz(func(t *testing.T, data []byte, host byte, port uint16) {
		if port == 0 {
			port = 1
		}
		conn.send(data, netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, host}), port))
		if got := n.peers.len(); got > maxInfoHashes*maxPeersPerHash {
			t.Fatalf("%d peers stored", got)
		}
		if got := n.Nodes(); got > maxStateNodes {
			t.Fatalf("%d nodes in the routing table", got)
		}
	})
}
