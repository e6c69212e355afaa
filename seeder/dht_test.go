package seeder

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/int160"
	"github.com/anacrolix/dht/v2/krpc"
	"golang.org/x/time/rate"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
	"github.com/bitorigin/bitorigin/seeder/dhtnode"
)

// startDHT starts a DHT node on a free loopback port until the test ends.
func startDHT(t *testing.T) *dhtnode.Node {
	t.Helper()
	// Tests query it in quick succession from one IP.
	n, err := dhtnode.Start(dhtnode.Config{Addr: "127.0.0.1:0", PerIPRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// dhtReserved is fastReserved with the DHT bit.
func dhtReserved() peerwire.Reserved {
	r := fastReserved()
	r.SetDHT()
	return r
}

// handshakeReserved connects to addr for tor and returns the reserved
// bytes of the seeder's handshake.
func handshakeReserved(t *testing.T, addr string, tor *content.Torrent) peerwire.Reserved {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	h := peerwire.Handshake{InfoHash: tor.InfoHash(), PeerID: [20]byte{'-', 'T', 'T'}}
	if _, err := nc.Write(h.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	got, err := peerwire.ReadHandshake(bufio.NewReader(nc))
	if err != nil {
		t.Fatal(err)
	}
	return got.Reserved
}

func TestDHTPeersLearnOurNodesPortAfterOurPieces(t *testing.T) {
	node := startDHT(t)
	tor, _ := contenttest.Complete(t, 100000, 32<<10)
	_, addr := serveTest(t, Config{DHT: node}, tor)
	if !handshakeReserved(t, addr, tor).DHT() {
		t.Fatal("our handshake lacks the DHT bit")
	}
	p := connectPeer(t, addr, tor, dhtReserved())
	waitFor[*peerwire.HaveAll](p)
	m, err := p.r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if pm, ok := m.(*peerwire.Port); !ok || pm.Port != node.Port() {
		t.Fatalf("after have all: %#v, want port %d", m, node.Port())
	}
}

func TestNoPortMessageWithoutTheDHTBitOrANode(t *testing.T) {
	tor, _ := contenttest.Complete(t, 100000, 32<<10)
	for _, tc := range []struct {
		name     string
		node     *dhtnode.Node
		reserved peerwire.Reserved
	}{
		{"peer without the bit", startDHT(t), fastReserved()},
		{"seeder without a node", nil, dhtReserved()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := serveTest(t, Config{DHT: tc.node}, tor)
			if got := handshakeReserved(t, addr, tor).DHT(); got != (tc.node != nil) {
				t.Fatalf("DHT bit %v in our handshake with node %v", got, tc.node != nil)
			}
			p := connectPeer(t, addr, tor, tc.reserved)
			p.send(&peerwire.Interested{})
			// A port message would come before the unchoke.
			for {
				m, err := p.r.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				switch m.(type) {
				case *peerwire.Port:
					t.Fatal("port message sent")
				case *peerwire.Unchoke:
					return
				}
			}
		})
	}
}

func TestServedTorrentsAreOnTheDHTUntilRemoved(t *testing.T) {
	node := startDHT(t)
	s, addr := serveTest(t, Config{DHT: node})
	tor, _ := contenttest.Complete(t, 100000, 32<<10)
	private, _ := contenttest.Complete(t, 1000, 32<<10)
	private.Meta.Info.Private = true
	for _, tt := range []*content.Torrent{tor, private} {
		if err := s.Add(tt); err != nil {
			t.Fatal(err)
		}
	}
	// Serve, started by serveTest, may not have begun announcing yet.
	want := []netip.AddrPort{netip.MustParseAddrPort(addr)}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got := dhtGetPeers(t, node, tor.InfoHash())
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get_peers answered %v, want %v", got, want)
		}
	}
	if got := dhtGetPeers(t, node, private.InfoHash()); len(got) != 0 {
		t.Fatalf("a private torrent is on the DHT: %v", got)
	}
	if err := s.Remove(context.Background(), tor.InfoHash()); err != nil {
		t.Fatal(err)
	}
	if got := dhtGetPeers(t, node, tor.InfoHash()); len(got) != 0 {
		t.Fatalf("after Remove, get_peers answered %v", got)
	}
}

// dhtGetPeers asks node for the peers of h, as a leecher's DHT node would.
func dhtGetPeers(t *testing.T, node *dhtnode.Node, h metainfo.InfoHash) []netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := dht.NewServer(&dht.ServerConfig{Conn: pc, NoSecurity: true, SendLimiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.GetPeers(ctx, dht.NewAddr(net.UDPAddrFromAddrPort(node.Addr())), int160.FromByteArray(h), false, dht.QueryRateLimiting{})
	if res.Err != nil || res.Reply.R == nil {
		t.Fatalf("get_peers: %v", res.Err)
	}
	var out []netip.AddrPort
	for _, p := range res.Reply.R.Values {
		ip, _ := netip.AddrFromSlice(p.IP)
		out = append(out, netip.AddrPortFrom(ip.Unmap(), uint16(p.Port)))
	}
	return out
}

// plainNode is a DHT node of the library on loopback that queries nobody
// by itself.
func plainNode(t *testing.T) *dht.Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := dht.NewServer(&dht.ServerConfig{Conn: pc, NoSecurity: true, SendLimiter: rate.NewLimiter(rate.Inf, 1),
		StartingNodes: func() ([]dht.Addr, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); pc.Close() })
	return s
}

func udpAddr(s *dht.Server) netip.AddrPort {
	ap := s.Addr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func TestAPeersPortMessageBringsItsNodeIntoOurRoutingTable(t *testing.T) {
	node := startDHT(t)
	tor, _ := contenttest.Complete(t, 100000, 32<<10)
	_, addr := serveTest(t, Config{DHT: node}, tor)
	ignored, named := udpAddr(plainNode(t)), udpAddr(plainNode(t))
	// A peer that did not set the DHT bit is not listened to; the unchoke
	// that follows its interest shows its port message was read.
	p := connectPeer(t, addr, tor, fastReserved())
	p.send(&peerwire.Port{Port: ignored.Port()}, &peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	q := connectPeer(t, addr, tor, dhtReserved())
	q.send(&peerwire.Port{Port: named.Port()})
	for deadline := time.Now().Add(15 * time.Second); !slices.Contains(node.NodeAddrs(), named); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("routing table %v lacks %v, named by a port message", node.NodeAddrs(), named)
		}
	}
	if slices.Contains(node.NodeAddrs(), ignored) {
		t.Errorf("routing table %v has %v, named by a peer without the DHT bit", node.NodeAddrs(), ignored)
	}
}

// TestALeecherFoundOnlyThroughTheDHTIsDialled: a leecher that never dials
// (as Transmission does not dial a loopback seeder) announces itself to
// our DHT node under a hybrid's v2 hash; the seeder dials it, greeting it
// with that hash.
func TestALeecherFoundOnlyThroughTheDHTIsDialled(t *testing.T) {
	node := startDHT(t)
	tor := v2Torrent(t, metainfo.Hybrid, "album", 16<<10)
	v2, _ := tor.Meta.InfoHashV2()
	h := v2.Truncate()
	_, addr := serveTest(t, Config{DHT: node}, tor)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Serve announces the torrent on the node in the background.
	for deadline := time.Now().Add(10 * time.Second); !slices.Contains(dhtGetPeers(t, node, h), netip.MustParseAddrPort(addr)); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the v2 hash is not on the DHT node")
		}
	}
	c := plainNode(t)
	to := dht.NewAddr(net.UDPAddrFromAddrPort(node.Addr()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.GetPeers(ctx, to, int160.FromByteArray(h), false, dht.QueryRateLimiting{})
	if res.Err != nil || res.Reply.R == nil || res.Reply.R.Token == nil {
		t.Fatalf("get_peers: %v %+v", res.Err, res.Reply)
	}
	port := netip.MustParseAddrPort(ln.Addr().String()).Port()
	p := int(port)
	res = c.Query(ctx, to, "announce_peer", dht.QueryInput{MsgArgs: krpc.MsgArgs{InfoHash: krpc.ID(h), Port: &p, Token: *res.Reply.R.Token}})
	if res.Err != nil {
		t.Fatalf("announce_peer: %v", res.Err)
	}
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(15 * time.Second))
	nc, err := ln.Accept()
	if err != nil {
		t.Fatalf("the seeder did not dial the leecher: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := peerwire.ReadHandshake(bufio.NewReader(nc))
	if err != nil || got.InfoHash != h {
		t.Fatalf("the seeder's handshake: %+v %v; want info hash %s", got, err, h)
	}
}
