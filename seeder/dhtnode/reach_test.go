package dhtnode

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/int160"
	"github.com/anacrolix/dht/v2/krpc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

// clientOn is a plain node of the library listening on addr.
func clientOn(t *testing.T, addr string) *dht.Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		testenv.NoLoopback(t, addr, err)
	}
	return clientAt(t, pc)
}

func serverAddr(s *dht.Server) netip.AddrPort {
	ap := s.Addr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// getPeersAt asks the node at addr for the peers of h; it returns the
// values and the token.
func getPeersAt(t *testing.T, c *dht.Server, addr netip.AddrPort, h metainfo.InfoHash) ([]netip.AddrPort, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.GetPeers(ctx, dht.NewAddr(net.UDPAddrFromAddrPort(addr)), int160.FromByteArray(h), false, dht.QueryRateLimiting{})
	if res.Err != nil || res.Reply.R == nil {
		t.Fatalf("get_peers to %s: %v %+v", addr, res.Err, res.Reply)
	}
	var out []netip.AddrPort
	for _, p := range res.Reply.R.Values {
		ip, _ := netip.AddrFromSlice(p.IP)
		out = append(out, netip.AddrPortFrom(ip.Unmap(), uint16(p.Port)))
	}
	token := ""
	if res.Reply.R.Token != nil {
		token = *res.Reply.R.Token
	}
	return out, token
}

func TestANodeNamedByAPortMessageEntersTheRoutingTable(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := startNode(t, Config{Registerer: reg})
	other := client(t) // never queries us by itself
	a := serverAddr(other)
	n.Introduce(a)
	waitUntil(t, 15*time.Second, "the node in the routing table", func() bool { return slices.Contains(n.NodeAddrs(), a) })
	waitUntil(t, 5*time.Second, "the ping counted", func() bool { return testutil.ToFloat64(n.m.pings["answered"]) == 1 })
	// Named again, by every connection of that peer: not pinged again.
	n.Introduce(a)
	if got := testutil.ToFloat64(n.m.introductions["duplicate"]); got != 1 {
		t.Errorf("%v duplicates counted, want 1", got)
	}
	for _, bad := range []netip.AddrPort{
		netip.AddrPortFrom(a.Addr(), 0),
		n.Addr(),
		netip.MustParseAddrPort("0.0.0.0:6881"),
		netip.MustParseAddrPort("224.0.0.1:6881"),
		netip.MustParseAddrPort("[::1]:6881"), // our socket is IPv4 only
	} {
		n.Introduce(bad)
	}
	if got := testutil.ToFloat64(n.m.introductions["invalid"]); got != 5 {
		t.Errorf("%v invalid counted, want 5", got)
	}
}

// A peer sending thousands of port messages, each naming another port,
// gets a few of them pinged: the rest cost a map look-up.
func TestPortMessagesFloodingFromOneIPArePingedAFewTimes(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := startNode(t, Config{Registerer: reg})
	const flood = 5000
	for i := range flood {
		n.Introduce(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(20000+i)))
	}
	queued := testutil.ToFloat64(n.m.introductions["queued"])
	limited := testutil.ToFloat64(n.m.introductions["limited"])
	if queued != pingPerIPBurst || queued+limited != flood {
		t.Fatalf("%v queued, %v limited; want %d queued", queued, limited, pingPerIPBurst)
	}
	waitUntil(t, 30*time.Second, "the pings to time out", func() bool {
		return testutil.ToFloat64(n.m.pings["no_answer"]) == pingPerIPBurst
	})
	if sent := testutil.ToFloat64(n.m.packets[1]); sent > pingPerIPBurst*pingTries {
		t.Errorf("%v packets sent, want at most %d", sent, pingPerIPBurst*pingTries)
	}
}

func TestPingerBoundsItsMemoryAndQueue(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPinger(func() time.Time { return now })
	queued := 0
	// Many IPs at once: the queue fills, the rest are dropped.
	for i := range 10000 {
		if p.admit(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 6881)) == "queued" {
			queued++
		}
	}
	if queued != maxPendingPings || len(p.recent) != maxPendingPings {
		t.Fatalf("%d queued, %d remembered; want %d", queued, len(p.recent), maxPendingPings)
	}
	// Drained and refilled many times: what is remembered stays bounded.
	for round := range 400 {
		for len(p.pending) > 0 {
			<-p.pending
		}
		for i := range maxPendingPings {
			p.admit(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(round), byte(i)}), 6881))
		}
	}
	if len(p.recent) > maxRecentPings {
		t.Fatalf("%d addresses remembered, want at most %d", len(p.recent), maxRecentPings)
	}
	// Once they are old, new ones are taken again.
	now = now.Add(pingRepeat)
	for len(p.pending) > 0 {
		<-p.pending
	}
	if got := p.admit(netip.MustParseAddrPort("192.0.2.1:6881")); got != "queued" {
		t.Fatalf("after pingRepeat: %s, want queued", got)
	}
}

// recorder collects what OnPeers is given.
type recorder struct {
	mu    sync.Mutex
	peers map[metainfo.InfoHash][]netip.AddrPort
}

func record(n *Node) *recorder {
	r := &recorder{peers: map[metainfo.InfoHash][]netip.AddrPort{}}
	n.OnPeers(func(h metainfo.InfoHash, peers []netip.AddrPort) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.peers[h] = append(r.peers[h], peers...)
	})
	return r
}

func (r *recorder) get(h metainfo.InfoHash) []netip.AddrPort {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.peers[h])
}

func TestPeersTheAnnounceFindsGoToOnPeers(t *testing.T) {
	router := startNode(t, Config{})
	h := metainfo.InfoHash{7}
	leecher := netip.MustParseAddrPort("127.0.0.1:5555")
	router.peers.AddPeer([20]byte(h), nodeAddr(leecher))
	reg := prometheus.NewRegistry()
	n := startNode(t, Config{Bootstrap: []string{router.Addr().String()}, Registerer: reg})
	got := record(n)
	n.Announce(h, 4001)
	waitUntil(t, 30*time.Second, "the leecher handed over", func() bool { return slices.Contains(got.get(h), leecher) })
	// The router now has us too, for the next announce: we are never
	// handed ourselves.
	waitUntil(t, 10*time.Second, "the router to store us", func() bool { return len(router.peers.GetPeers([20]byte(h))) == 2 })
	waitUntil(t, 10*time.Second, "the first announce over", func() bool { return testutil.ToFloat64(n.m.announces["ok"]) == 1 })
	n.Withdraw(h)
	n.Announce(h, 4001) // at once again
	waitUntil(t, 10*time.Second, "a second announce", func() bool { return testutil.ToFloat64(n.m.announces["ok"]) == 2 })
	for _, p := range got.get(h) {
		if p != leecher {
			t.Fatalf("handed %v, want only %v", got.get(h), leecher)
		}
	}
	if c := testutil.ToFloat64(n.m.found["traversal"]); c < 1 {
		t.Errorf("%v traversal peers counted", c)
	}
}

func TestPeersThatAnnounceToUsGoToOnPeers(t *testing.T) {
	n := startNode(t, Config{PerIPRate: 1000})
	got := record(n)
	served, other := metainfo.InfoHash{1}, metainfo.InfoHash{2}
	n.Announce(served, 4001)
	c := client(t)
	for _, h := range []metainfo.InfoHash{other, served} {
		_, token := getPeersAt(t, c, n.Addr(), h)
		port := 5556
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res := c.Query(ctx, dht.NewAddr(net.UDPAddrFromAddrPort(n.Addr())), "announce_peer", dht.QueryInput{
			MsgArgs: krpc.MsgArgs{InfoHash: krpc.ID(h), Port: &port, Token: token}})
		cancel()
		if res.Err != nil {
			t.Fatalf("announce_peer: %v", res.Err)
		}
	}
	want := netip.MustParseAddrPort("127.0.0.1:5556")
	waitUntil(t, 10*time.Second, "the announcer handed over", func() bool { return slices.Equal(got.get(served), []netip.AddrPort{want}) })
	if p := got.get(other); len(p) != 0 {
		t.Errorf("peers of a torrent we do not serve handed over: %v", p)
	}
}

// A node on a wildcard address answers each querier with the address it
// sees us at, in its own family.
func TestAWildcardNodeGivesTheAddressTheQuerierSeesUsAt(t *testing.T) {
	n := startNode(t, Config{Addr: ":0", PerIPRate: 1000})
	h := metainfo.InfoHash{3}
	n.Announce(h, 6881)
	port := n.Addr().Port()
	v4 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	if got, _ := getPeersAt(t, client(t), v4, h); !slices.Equal(got, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:6881")}) {
		t.Errorf("over IPv4: %v, want 127.0.0.1:6881", got)
	}
	v6 := netip.AddrPortFrom(netip.MustParseAddr("::1"), port)
	if got, _ := getPeersAt(t, clientOn(t, "[::1]:0"), v6, h); !slices.Equal(got, []netip.AddrPort{netip.MustParseAddrPort("[::1]:6881")}) {
		t.Errorf("over IPv6: %v, want [::1]:6881", got)
	}
}

// With PeerIP, a wildcard node gives it to its family, and to the other
// family the address that querier sees.
func TestAWildcardNodeGivesPeerIPToItsFamilyOnly(t *testing.T) {
	n := startNode(t, Config{Addr: ":0", PeerIP: netip.MustParseAddr("192.0.2.7"), PerIPRate: 1000})
	h := metainfo.InfoHash{3}
	n.Announce(h, 6881)
	port := n.Addr().Port()
	if got, _ := getPeersAt(t, client(t), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), h); !slices.Equal(got, []netip.AddrPort{netip.MustParseAddrPort("192.0.2.7:6881")}) {
		t.Errorf("over IPv4: %v, want 192.0.2.7:6881", got)
	}
	if got, _ := getPeersAt(t, clientOn(t, "[::1]:0"), netip.AddrPortFrom(netip.MustParseAddr("::1"), port), h); !slices.Equal(got, []netip.AddrPort{netip.MustParseAddrPort("[::1]:6881")}) {
		t.Errorf("over IPv6: %v, want [::1]:6881", got)
	}
}

func TestAPublicQuerierIsNotGivenAnAddressBehindNAT(t *testing.T) {
	for _, c := range []struct {
		local, querier string
		want           bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"192.168.1.5", "192.168.1.9", true},
		{"192.168.1.5", "203.0.113.9", false},
		{"100.64.3.4", "203.0.113.9", false},
		{"198.51.100.4", "203.0.113.9", true},
		{"2001:db8::1", "2001:db8::2", true},
		{"fd00::1", "2001:db8::2", false},
		{"198.51.100.4", "10.0.0.1", true},
	} {
		if got := reachableFrom(netip.MustParseAddr(c.local), netip.MustParseAddr(c.querier)); got != c.want {
			t.Errorf("local %s, querier %s: %v, want %v", c.local, c.querier, got, c.want)
		}
	}
}

// A seeder that accepts peers at one address only has its node give that
// address alone, never one of the other family.
func TestOnlyPeerIPKeepsTheOtherFamilyOutOfAnswers(t *testing.T) {
	n := startNode(t, Config{Addr: ":0", PeerIP: netip.MustParseAddr("127.0.0.1"), OnlyPeerIP: true, PerIPRate: 1000})
	h := metainfo.InfoHash{3}
	n.Announce(h, 6881)
	// The library hands IPv4 peers to IPv6 queriers, as mapped addresses.
	got, _ := getPeersAt(t, clientOn(t, "[::1]:0"), netip.AddrPortFrom(netip.MustParseAddr("::1"), n.Addr().Port()), h)
	if !slices.Equal(got, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:6881")}) {
		t.Errorf("over IPv6: %v, want only 127.0.0.1:6881", got)
	}
}

// The library dereferences announce_peer's arguments unchecked: such a
// query without them crashed the process. They, and BEP 44's put and
// get, are dropped before it sees them.
func TestQueriesThatWouldCrashTheLibraryAreRefused(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := startNode(t, Config{Registerer: reg, PerIPRate: 1000})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	to := net.UDPAddrFromAddrPort(n.Addr())
	for _, q := range []string{
		"d1:q13:announce_peer1:t2:aa1:y1:qe",
		"d1:q3:put1:t2:ab1:y1:qe",
		"d1:q3:get1:t2:ac1:y1:qe",
		"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:ad1:y1:qe",
	} {
		if _, err := pc.WriteTo([]byte(q), to); err != nil {
			t.Fatal(err)
		}
	}
	// Only the ping is answered. The node may also query us (a find_node
	// for a node it has just heard of): its queries are skipped, and the
	// first reply must be the ping's.
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		nb, _, err := pc.ReadFrom(buf)
		if err == nil && strings.HasSuffix(string(buf[:nb]), "1:y1:qe") {
			continue
		}
		if err != nil || !strings.Contains(string(buf[:nb]), "1:t2:ad") {
			t.Fatalf("reply %q, %v; want the ping's", buf[:nb], err)
		}
		break
	}
	if got := testutil.ToFloat64(n.m.queries["announce_peer"]["refused"]) + testutil.ToFloat64(n.m.queries["other"]["refused"]); got != 3 {
		t.Errorf("%v queries refused, want 3", got)
	}
}
