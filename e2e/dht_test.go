package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/int160"
	"golang.org/x/time/rate"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

// TestLibtorrentFindsOurSeederThroughItsDHTNode gives libtorrent a magnet
// link without trackers and one DHT bootstrap node, the seeder's, on
// 127.0.0.1, and no peer: its DHT asks our node for the info hash, whose
// answer names the seeder, and it downloads from there. Nobody else is
// named to either side, so nothing leaves loopback.
func TestLibtorrentFindsOurSeederThroughItsDHTNode(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	script := ltClientScript(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 3<<20+12345)
	torrents := filepath.Join(work, "torrents")
	// No tracker at all: the torrents are created without one.
	sp := startSeeder(t, data, torrents, nil, "--piece-length", "256K")
	album := sp.status(t)["album"]
	if album.InfoHash == "" {
		t.Fatalf("/torrents: %+v", sp.status(t))
	}

	ltPort := testenv.FreePort(t)
	dir := filepath.Join(work, "libtorrent")
	magnet := "magnet:?xt=urn:btih:" + album.InfoHash + "&dn=album"
	lt := testenv.Start(t, py, []string{script, "dhtfetch", dir, strconv.Itoa(ltPort), "120", sp.addr(), magnet})
	if err := lt.Wait(150 * time.Second); err != nil {
		t.Fatalf("libtorrent: %v\n%s\nseeder:\n%s", err, lt.Tail(3000), sp.proc.Tail(3000))
	}
	want := map[string]string{}
	for name, sum := range sums {
		if strings.HasPrefix(name, "album/") {
			want[name] = sum
		}
	}
	checkFiles(t, "libtorrent over the DHT", dir, want)

	m := scrapeMetrics(t, sp.adminPort)
	if m[`bitorigin_seeder_dht_queries_received_total{method="get_peers",result="answered"}`] < 1 {
		t.Errorf("no get_peers answered by the seeder's DHT node: %v", dhtSeries(m))
	}
	if m["bitorigin_seeder_dht_routing_table_nodes"] < 1 {
		t.Errorf("libtorrent's node is not in the routing table: %v", dhtSeries(m))
	}

	// The routing table outlives the seeder: libtorrent's node is in the
	// state file written on the way out.
	if err := sp.proc.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("seeder exit after SIGTERM: %v\n%s", err, sp.proc.Tail(3000))
	}
	state, err := os.ReadFile(filepath.Join(torrents, ".dht.json"))
	if err != nil {
		t.Fatal(err)
	}
	if node := fmt.Sprintf("127.0.0.1:%d", ltPort); !strings.Contains(string(state), node) {
		t.Errorf("state file lacks libtorrent's node %s:\n%s", node, state)
	}
}

// dhtSeries picks the DHT node's series out of a scrape, for messages.
func dhtSeries(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.Contains(k, "_dht_") {
			out[k] = v
		}
	}
	return out
}

// TestALibtorrentPeersPortMessageIsPinged: libtorrent, with its DHT on but
// no bootstrap node, is given the seeder's address and a magnet link.
// Its port message (BEP 5) names its node, which our node pings and puts
// in its routing table. (libtorrent also pings our node on our own port
// message, so the routing table alone would not tell; the counters of
// port messages and their pings do.)
func TestALibtorrentPeersPortMessageIsPinged(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	script := ltClientScript(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	content(t, data, 300000)
	torrents := filepath.Join(work, "torrents")
	sp := startSeeder(t, data, torrents, nil, "--piece-length", "256K")
	album := sp.status(t)["album"]
	ltPort := testenv.FreePort(t)
	magnet := "magnet:?xt=urn:btih:" + album.InfoHash + "&dn=album"
	lt := testenv.Start(t, py, []string{script, "--dht", "fetchmany", filepath.Join(work, "libtorrent"), strconv.Itoa(ltPort), "120", sp.addr(), magnet})
	if err := lt.Wait(150 * time.Second); err != nil {
		t.Fatalf("libtorrent: %v\n%s\nseeder:\n%s", err, lt.Tail(3000), sp.proc.Tail(3000))
	}
	var m map[string]float64
	testenv.Eventually(t, 20*time.Second, "libtorrent's port message acted on", func() bool {
		m = scrapeMetrics(t, sp.adminPort)
		return m[`bitorigin_seeder_dht_port_messages_total{result="queued"}`] >= 1 &&
			m[`bitorigin_seeder_dht_port_pings_total{result="answered"}`]+m[`bitorigin_seeder_dht_port_pings_total{result="known"}`] >= 1
	})
	if m["bitorigin_seeder_dht_routing_table_nodes"] < 1 {
		t.Errorf("libtorrent's node is not in the routing table: %v", dhtSeries(m))
	}
	if err := sp.proc.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("seeder exit after SIGTERM: %v\n%s", err, sp.proc.Tail(3000))
	}
	state, err := os.ReadFile(filepath.Join(torrents, ".dht.json"))
	if err != nil {
		t.Fatal(err)
	}
	if node := fmt.Sprintf("127.0.0.1:%d", ltPort); !strings.Contains(string(state), node) {
		t.Errorf("routing table lacks libtorrent's node %s:\n%s", node, state)
	}
}

// TestAWildcardSeedersDHTNodeGivesTheAddressItIsQueriedAt: a seeder on
// --listen :PORT, without --announce-ip, answers a get_peers over
// 127.0.0.1 with 127.0.0.1:PORT (and over [::1] with [::1]:PORT), and
// libtorrent finds it through that answer alone.
func TestAWildcardSeedersDHTNodeGivesTheAddressItIsQueriedAt(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 300000)
	torrents := filepath.Join(work, "torrents")
	port := testenv.FreePort(t)
	sp := startSeeder(t, data, torrents, nil, "--piece-length", "256K", "--listen", fmt.Sprintf(":%d", port))
	album := sp.status(t)["album"]
	h, err := metainfo.ParseInfoHash(album.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1"} {
		ip := netip.MustParseAddr(host)
		want := netip.AddrPortFrom(ip, uint16(port))
		got := dhtValues(t, netip.AddrPortFrom(ip, 0), want, h)
		if len(got) != 1 || got[0] != want {
			t.Errorf("get_peers over %s: %v, want %v", host, got, want)
		}
	}

	py := testenv.LookPath(t, testenv.DebianPython)
	dir := filepath.Join(work, "libtorrent")
	magnet := "magnet:?xt=urn:btih:" + album.InfoHash + "&dn=album"
	lt := testenv.Start(t, py, []string{ltClientScript(t), "dhtfetch", dir, strconv.Itoa(testenv.FreePort(t)), "120",
		fmt.Sprintf("127.0.0.1:%d", port), magnet})
	if err := lt.Wait(150 * time.Second); err != nil {
		t.Fatalf("libtorrent: %v\n%s\nseeder:\n%s", err, lt.Tail(3000), sp.proc.Tail(3000))
	}
	want := map[string]string{}
	for name, sum := range sums {
		if strings.HasPrefix(name, "album/") {
			want[name] = sum
		}
	}
	checkFiles(t, "libtorrent over the DHT", dir, want)
}

// dhtValues sends one get_peers for h from a DHT node on local (port 0:
// any) to the node at to, and returns the peers of its answer.
func dhtValues(t *testing.T, local, to netip.AddrPort, h metainfo.InfoHash) []netip.AddrPort {
	t.Helper()
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(local))
	if err != nil {
		testenv.NoLoopback(t, local.String(), err)
	}
	defer pc.Close()
	c, err := dht.NewServer(&dht.ServerConfig{Conn: pc, NoSecurity: true, SendLimiter: rate.NewLimiter(rate.Inf, 1),
		StartingNodes: func() ([]dht.Addr, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.GetPeers(ctx, dht.NewAddr(net.UDPAddrFromAddrPort(to)), int160.FromByteArray(h), false, dht.QueryRateLimiting{})
	if res.Err != nil || res.Reply.R == nil {
		t.Fatalf("get_peers to %s: %v %+v", to, res.Err, res.Reply)
	}
	var out []netip.AddrPort
	for _, p := range res.Reply.R.Values {
		ip, _ := netip.AddrFromSlice(p.IP)
		out = append(out, netip.AddrPortFrom(ip.Unmap(), uint16(p.Port)))
	}
	return out
}
