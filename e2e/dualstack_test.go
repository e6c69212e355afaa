package e2e

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// TestAnIPv6OnlyLeecherFindsADualStackSeeder runs our tracker on both
// families and our seeder listening on both, given the tracker's IPv4 URL
// and its IPv6 URL. The seeder announces over each family (BEP 7): the
// tracker counts it as a seeder in both, and a libtorrent leecher that
// listens only on [::1] and knows only the tracker's [::1] URL downloads
// the release.
func TestAnIPv6OnlyLeecherFindsADualStackSeeder(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	script := ltClientScript(t)
	tp := startTracker(t, "[::]:%d", nil, "--interval", "2s", "--min-interval", "1s")
	url4 := tp.announceURL()
	url6 := fmt.Sprintf("http://[::1]:%d/announce", tp.httpPort)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	file := filepath.Join(data, "six.bin")
	testenv.WriteRandomFile(t, file, 3<<20+555, 21)
	sum := testenv.SHA256File(t, file)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{url4, url6},
		"--piece-length", "64K", "--listen", fmt.Sprintf("[::]:%d", testenv.FreeTCPPort(t)))
	// startSeeder picked a port for 127.0.0.1; the --listen above wins.
	eventually(t, "answers over both families", func() bool {
		a := sp.status(t)["six.bin"].Announced
		return a["ipv4"] == url4 && a["ipv6"] == url6
	}, func() string { return sp.proc.Tail(3000) })
	m := scrapeMetrics(t, tp.adminPort)
	for _, fam := range []string{"ipv4", "ipv6"} {
		if n := m[`bitorigin_tracker_peers{family="`+fam+`",role="seeder"}`]; n != 1 {
			t.Fatalf("tracker counts %v seeders over %s, want 1; metrics: %v", n, fam, m)
		}
	}

	st := sp.status(t)["six.bin"]
	magnet := "magnet:?xt=urn:btih:" + st.InfoHash + "&dn=six.bin&tr=" + url.QueryEscape(url6)
	out := filepath.Join(work, "lt6")
	leech := testenv.Start(t, py, []string{script, "--ipv6", "fetchmany", out, strconv.Itoa(testenv.FreePort(t)), "120", "-", magnet})
	if err := leech.Wait(150 * time.Second); err != nil {
		t.Fatalf("IPv6-only libtorrent: %v\n%s\nseeder log:\n%s", err, leech.Tail(3000), sp.proc.Tail(3000))
	}
	checkFiles(t, "IPv6-only libtorrent", out, map[string]string{"six.bin": sum})
}
