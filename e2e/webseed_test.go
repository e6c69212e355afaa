package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

// TestStandardClientsDownloadFromTheWebSeedAlone has aria2c, Transmission
// and libtorrent each download a single-file and a multi-file torrent from
// the seeder's web seed (BEP 19) with no peer online: the torrents name no
// tracker, DHT and the like are off, and the seeder's peer port, though
// open, is known to nobody; it uploads nothing.
func TestStandardClientsDownloadFromTheWebSeedAlone(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	aria := testenv.LookPath(t, "aria2c")
	script := ltClientScript(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 6<<20+12345)
	wsPort := testenv.FreeTCPPort(t)
	wsURL := fmt.Sprintf("http://127.0.0.1:%d/", wsPort)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), nil, "--piece-length", "256K",
		"--webseed-addr", fmt.Sprintf("127.0.0.1:%d", wsPort), "--webseed-url", wsURL)
	st := sp.status(t)
	single, album := st["single.bin"], st["album"]
	torrents := []string{single.Torrent, album.Torrent}
	for _, p := range torrents {
		m, err := metainfo.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.WebSeeds) != 1 || m.WebSeeds[0] != wsURL || len(m.Trackers()) != 0 {
			t.Fatalf("%s: url-list %q, trackers %q", p, m.WebSeeds, m.Trackers())
		}
	}

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, append(aria2Args(ariaDir, testenv.FreePort(t)), append([]string{"--bt-exclude-tracker=*"}, torrents...)...))
	ltDir := filepath.Join(work, "libtorrent")
	ltProc := testenv.Start(t, py, append([]string{script, "fetchmany", ltDir, strconv.Itoa(testenv.FreePort(t)), "150", "-"}, torrents...))
	trDir, trDone := transmission(t, work, torrents...)

	for _, p := range []*testenv.Proc{ariaProc, ltProc} {
		if err := p.Wait(180 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s\nseeder log:\n%s", p.Name, err, p.Tail(3000), sp.proc.Tail(3000))
		}
	}
	waitTransmission(t, sp, trDone, "single.bin", "album")
	checkFiles(t, "aria2c", ariaDir, sums)
	checkFiles(t, "libtorrent", ltDir, sums)
	checkFiles(t, "transmission", trDir, sums)
	// Each client asked the web seed, and nothing went over the peer wire.
	log := string(sp.proc.Output())
	for _, agent := range []string{"aria2/", "Transmission/", "libtorrent/"} {
		if !strings.Contains(log, `msg="web seed request"`) || !strings.Contains(log, `client=`+agent) && !strings.Contains(log, `client="`+agent) {
			t.Errorf("no web seed request from %s in the seeder log", agent)
		}
	}
	for name, s := range sp.status(t) {
		if s.Uploaded != 0 || s.Peers != 0 {
			t.Errorf("%s: %d bytes uploaded to %d peers over BitTorrent, want none", name, s.Uploaded, s.Peers)
		}
	}
}
