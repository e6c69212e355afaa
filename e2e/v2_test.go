package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// TestLibtorrentDownloadsHybridAndV2TorrentsFromOurSeeder has libtorrent 2
// download, through our tracker, a hybrid and a v2-only torrent, each
// single-file and multi-file, with sizes that are not multiples of the
// piece length (so pieces end in BEP 47 padding): the hybrids are created
// by serve --hybrid, the v2 ones by create --v2 and reused by serve. A
// second libtorrent gets only a v2 magnet link (xt=urn:btmh) and the
// seeder's address: it fetches the info dictionary (ut_metadata) and the
// piece layers (BEP 52 hash requests) from our seeder. Offload is on, as
// by default: pieces are revealed a few at a time with have messages.
func TestLibtorrentDownloadsHybridAndV2TorrentsFromOurSeeder(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	script := ltClientScript(t)
	bin := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/seeder")
	tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s")
	work := t.TempDir()
	data, torrents := filepath.Join(work, "data"), filepath.Join(work, "torrents")
	files := map[string]int64{
		"hybrid.bin":         3<<20 + 12345,
		"hybrid-album/a.bin": 700001,
		"hybrid-album/b.txt": 999,
		"hybrid-album/c/d":   123457,
		"v2.bin":             2<<20 + 777,
		"v2-album/a.bin":     500003,
		"v2-album/b.bin":     65536*3 + 1,
		"v2-album/z/tiny":    10,
	}
	sums := map[string]string{}
	seed := uint64(40)
	for name, size := range files {
		p := filepath.Join(data, filepath.FromSlash(name))
		testenv.WriteRandomFile(t, p, size, seed)
		seed++
		sums[name] = testenv.SHA256File(t, p)
	}
	if err := os.MkdirAll(torrents, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"v2.bin", "v2-album"} {
		c := testenv.Start(t, bin, []string{"create", filepath.Join(data, name), "--v2", "-t", tp.announceURL(),
			"--piece-length", "64K", "-o", filepath.Join(torrents, name+".torrent")})
		if err := c.Wait(60 * time.Second); err != nil {
			t.Fatalf("create --v2 %s: %v\n%s", name, err, c.Tail(2000))
		}
	}
	sp := startSeeder(t, data, torrents, []string{tp.announceURL()}, "--hybrid", "--piece-length", "64K")
	st := sp.status(t)
	var sources []string
	for _, name := range []string{"hybrid.bin", "hybrid-album", "v2.bin", "v2-album"} {
		s := st[name]
		if s.InfoHashV2 == "" || s.Verified != s.Pieces || !strings.Contains(s.Magnet, "xt=urn:btmh:1220"+s.InfoHashV2) {
			t.Fatalf("/torrents %s: %+v", name, s)
		}
		hybrid := strings.HasPrefix(name, "hybrid")
		if hybrid == (s.InfoHash == s.InfoHashV2[:40]) || hybrid != strings.Contains(s.Magnet, "xt=urn:btih:"+s.InfoHash) {
			t.Fatalf("%s: info hash %s, v2 %s, magnet %s", name, s.InfoHash, s.InfoHashV2, s.Magnet)
		}
		sources = append(sources, s.Torrent)
	}
	// The seeder is in both swarms of each hybrid.
	for _, name := range []string{"hybrid.bin", "hybrid-album"} {
		waitScrape(t, tp, st[name].InfoHash, func(c, _, _ int) bool { return c == 1 })
		waitScrape(t, tp, st[name].InfoHashV2[:40], func(c, _, _ int) bool { return c == 1 })
	}

	ltDir := filepath.Join(work, "libtorrent")
	lt := testenv.Start(t, py, append([]string{script, "fetchmany", ltDir, strconv.Itoa(testenv.FreePort(t)), "150", "-"}, sources...))
	magnetDir := filepath.Join(work, "magnet")
	magnet := "magnet:?xt=urn:btmh:1220" + st["v2-album"].InfoHashV2 + "&dn=v2-album"
	mg := testenv.Start(t, py, []string{script, "fetchmany", magnetDir, strconv.Itoa(testenv.FreePort(t)), "150", sp.addr(), magnet})
	for _, p := range []*testenv.Proc{lt, mg} {
		if err := p.Wait(180 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s\nseeder log:\n%s", p.Name, err, p.Tail(3000), sp.proc.Tail(4000))
		}
	}
	checkFiles(t, "libtorrent", ltDir, sums)
	magnetSums := map[string]string{}
	for name, sum := range sums {
		if strings.HasPrefix(name, "v2-album/") {
			magnetSums[name] = sum
		}
	}
	checkFiles(t, "libtorrent from a v2 magnet link", magnetDir, magnetSums)
	code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", sp.adminPort))
	if code != 200 || !strings.Contains(string(body), `bitorigin_seeder_hash_requests_total{result="answered"}`) {
		t.Fatalf("/metrics: HTTP %d", code)
	}
	if strings.Contains(string(body), `bitorigin_seeder_hash_requests_total{result="answered"} 0`) {
		t.Errorf("the magnet leecher got its piece layers without a hash request answered:\n%s", sp.proc.Tail(3000))
	}
}
