package dhtnode

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/int160"
	"github.com/anacrolix/dht/v2/krpc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

// startNode starts a node on a free loopback port, closed when the test
// ends.
func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	if cfg.Addr == "" && cfg.Conn == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	var logs testenv.LogBuffer
	if cfg.Logger == nil {
		cfg.Logger = logs.Logger()
	}
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("node log:\n%s", logs.String())
		}
	})
	return n
}

// waitUntil polls cond until it holds, failing after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, timeout, what, cond)
}

// client is a plain node of the library on loopback, to query ours.
func client(t *testing.T) *dht.Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return clientAt(t, pc)
}

// clientAt is a plain node of the library on pc.
func clientAt(t *testing.T, pc net.PacketConn) *dht.Server {
	t.Helper()
	s, err := dht.NewServer(&dht.ServerConfig{
		Conn:        pc,
		NoSecurity:  true,
		Logger:      libraryLogger(slog.New(slog.DiscardHandler)),
		SendLimiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); pc.Close() })
	return s
}

func getPeers(t *testing.T, c *dht.Server, n *Node, h metainfo.InfoHash) []netip.AddrPort {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.GetPeers(ctx, dht.NewAddr(net.UDPAddrFromAddrPort(n.Addr())), int160.FromByteArray(h), false, dht.QueryRateLimiting{})
	if res.Err != nil || res.Reply.R == nil {
		t.Fatalf("get_peers: %v %+v", res.Err, res.Reply)
	}
	var out []netip.AddrPort
	for _, p := range res.Reply.R.Values {
		ip, _ := netip.AddrFromSlice(p.IP)
		out = append(out, netip.AddrPortFrom(ip.Unmap(), uint16(p.Port)))
	}
	return out
}

func TestGetPeersAnswersWithTheSeederForTorrentsItServes(t *testing.T) {
	n := startNode(t, Config{})
	c := client(t)
	h := metainfo.InfoHash{1, 2, 3}
	if got := getPeers(t, c, n, h); len(got) != 0 {
		t.Fatalf("before Announce: values %v, want none", got)
	}
	n.Announce(h, 6881)
	want := netip.MustParseAddrPort("127.0.0.1:6881")
	if got := getPeers(t, c, n, h); !slices.Equal(got, []netip.AddrPort{want}) {
		t.Fatalf("values %v, want %v", got, want)
	}
	if got := getPeers(t, c, n, metainfo.InfoHash{9}); len(got) != 0 {
		t.Fatalf("another info hash: values %v, want none", got)
	}
	n.Withdraw(h)
	if got := getPeers(t, c, n, h); len(got) != 0 {
		t.Fatalf("after Withdraw: values %v, want none", got)
	}
}

func TestPeerIPOverridesTheListenAddressInAnswers(t *testing.T) {
	n := startNode(t, Config{PeerIP: netip.MustParseAddr("192.0.2.7")})
	h := metainfo.InfoHash{4}
	n.Announce(h, 7000)
	want := netip.MustParseAddrPort("192.0.2.7:7000")
	if got := getPeers(t, client(t), n, h); !slices.Equal(got, []netip.AddrPort{want}) {
		t.Fatalf("values %v, want %v", got, want)
	}
}

func TestAnnouncesEveryTorrentToTheBootstrapNode(t *testing.T) {
	router := startNode(t, Config{})
	reg := prometheus.NewRegistry()
	n := startNode(t, Config{Bootstrap: []string{router.Addr().String()}, Registerer: reg})
	h1, h2 := metainfo.InfoHash{1}, metainfo.InfoHash{2}
	n.Announce(h1, 4001)
	n.Announce(h2, 4002)
	for h, port := range map[metainfo.InfoHash]uint16{h1: 4001, h2: 4002} {
		want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
		waitUntil(t, 30*time.Second, "the router to store "+want.String(), func() bool {
			return slices.ContainsFunc(router.peers.GetPeers([20]byte(h)), func(na krpc.NodeAddr) bool {
				return na.Port == int(port) && na.IP.Equal(net.IPv4(127, 0, 0, 1))
			})
		})
	}
	waitUntil(t, 10*time.Second, "two announces counted", func() bool {
		return testutil.ToFloat64(n.m.announces["ok"]) >= 2
	})
	if n.Nodes() == 0 {
		t.Error("routing table empty after bootstrapping")
	}
	// A leecher that knows only the router finds the seeder there.
	got := getPeers(t, client(t), router, h1)
	if !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:4001")) {
		t.Errorf("router's values %v lack the seeder", got)
	}
}

func TestSilentWithoutBootstrapNodesOrState(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := startNode(t, Config{Registerer: reg})
	n.Announce(metainfo.InfoHash{1}, 4001)
	waitUntil(t, 10*time.Second, "the announce to find no nodes", func() bool {
		return testutil.ToFloat64(n.m.announces["no_nodes"]) == 1
	})
	if out := testutil.ToFloat64(n.m.packets[1]); out != 0 {
		t.Fatalf("%v packets sent, want none", out)
	}
}

func TestRoutingTableSurvivesARestart(t *testing.T) {
	router := startNode(t, Config{})
	state := filepath.Join(t.TempDir(), "dht.json")
	n, err := Start(Config{Addr: "127.0.0.1:0", StateFile: state, Bootstrap: []string{router.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the router in the routing table", func() bool { return n.Nodes() > 0 })
	id := n.ID()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	again := startNode(t, Config{StateFile: state})
	if again.ID() != id {
		t.Errorf("node ID %x after restart, want %x", again.ID(), id)
	}
	if again.Nodes() == 0 {
		b, _ := os.ReadFile(state)
		t.Fatalf("routing table empty after restart; state file:\n%s", b)
	}
	nodes := again.srv.Nodes()
	if len(nodes) != 1 || nodes[0].ID != router.ID() {
		t.Errorf("nodes %v, want the router %x", nodes, router.ID())
	}
}

func TestCorruptStateFileIsAWarning(t *testing.T) {
	state := filepath.Join(t.TempDir(), "dht.json")
	if err := os.WriteFile(state, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs testenv.LogBuffer
	n := startNode(t, Config{StateFile: state, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "state") {
		t.Errorf("no warning about the state file:\n%s", logs.String())
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readState(state); err != nil {
		t.Errorf("state file not replaced by a good one on Close: %v", err)
	}
}

func TestQueriesOverThePerIPRateGoUnanswered(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := startNode(t, Config{PerIPRate: 1, Registerer: reg})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	const sent = 20
	ping := []byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")
	for range sent {
		if _, err := pc.WriteTo(ping, net.UDPAddrFromAddrPort(n.Addr())); err != nil {
			t.Fatal(err)
		}
	}
	answered, limited := n.m.queries["ping"]["answered"], n.m.queries["ping"]["limited"]
	waitUntil(t, 10*time.Second, "every ping counted", func() bool {
		return testutil.ToFloat64(answered)+testutil.ToFloat64(limited) == sent
	})
	// A burst of four, and maybe one more token while they arrive.
	if a := testutil.ToFloat64(answered); a < 4 || a > 5 {
		t.Errorf("%v pings answered, want the burst of 4 (or 5)", a)
	}
	// The replies that did go out.
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for range int(testutil.ToFloat64(answered)) {
		if _, _, err := pc.ReadFrom(buf); err != nil {
			t.Fatalf("reading a reply: %v", err)
		}
	}
}

func TestConfigRefusesBadSettings(t *testing.T) {
	for _, c := range []Config{
		{},
		{Addr: ":0", Bootstrap: []string{"router.example"}},
		{Addr: ":0", Bootstrap: []string{"router.example:0"}},
		{Addr: ":0", Rate: -1},
		{Addr: ":0", AnnounceInterval: time.Second},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (Config{Addr: ":0", Bootstrap: []string{"router.example:6881", "[::1]:6881"}}).Validate(); err != nil {
		t.Errorf("good config: %v", err)
	}
}
