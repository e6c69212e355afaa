package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
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
