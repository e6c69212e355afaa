package e2e

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/jackpal/bencode-go"
)

// TestAnIPv6OnlyLeecherFindsADualStackSeeder runs our tracker on both
// families and our seeder listening on both, given the tracker's IPv4 URL
// and its IPv6 URL. The seeder announces over each family (BEP 7) with one
// peer ID and one key: the tracker counts it as one dual-stack seeder
// (scrape complete 1, the peers gauge under family "both"), while an
// announce over each family gets its address of that family; and a
// libtorrent leecher that listens only on [::1] and knows only the
// tracker's [::1] URL downloads the release.
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
	seedPort := testenv.FreeTCPPort(t)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{url4, url6},
		"--piece-length", "64K", "--listen", fmt.Sprintf("[::]:%d", seedPort))
	// startSeeder picked a port for 127.0.0.1; the --listen above wins.
	eventually(t, "answers over both families", func() bool {
		a := sp.status(t)["six.bin"].Announced
		return a["ipv4"] == url4 && a["ipv6"] == url6
	}, func() string { return sp.proc.Tail(3000) })
	m := scrapeMetrics(t, tp.adminPort)
	for fam, want := range map[string]float64{"ipv4": 0, "ipv6": 0, "both": 1} {
		if n := m[`bitorigin_tracker_peers{family="`+fam+`",role="seeder"}`]; n != want {
			t.Fatalf("tracker counts %v seeders under family %s, want %v; metrics: %v", n, fam, want, m)
		}
	}
	st := sp.status(t)["six.bin"]
	if c, ok := scrapeComplete(t, tp, st.InfoHash); !ok || c != 1 {
		t.Fatalf("scrape: complete %d (listed %v), want the one dual-stack seeder", c, ok)
	}
	// Each family's announcer gets the seeder's address of its family.
	want4 := append(net.ParseIP("127.0.0.1").To4(), byte(seedPort>>8), byte(seedPort))
	want6 := append(net.ParseIP("::1").To16(), byte(seedPort>>8), byte(seedPort))
	for _, c := range []struct {
		url, field string
		want       []byte
	}{{url4, "peers", want4}, {url6, "peers6", want6}} {
		complete, peers := probeAnnounce(t, c.url, st.InfoHash)
		if complete != 1 || !bytes.Equal(peers[c.field], c.want) {
			t.Fatalf("announce to %s: complete %d, %s %x; want 1 and the seeder at %x", c.url, complete, c.field, peers[c.field], c.want)
		}
	}

	magnet := "magnet:?xt=urn:btih:" + st.InfoHash + "&dn=six.bin&tr=" + url.QueryEscape(url6)
	out := filepath.Join(work, "lt6")
	leech := testenv.Start(t, py, []string{script, "--ipv6", "fetchmany", out, strconv.Itoa(testenv.FreePort(t)), "120", "-", magnet})
	if err := leech.Wait(150 * time.Second); err != nil {
		t.Fatalf("IPv6-only libtorrent: %v\n%s\nseeder log:\n%s", err, leech.Tail(3000), sp.proc.Tail(3000))
	}
	checkFiles(t, "IPv6-only libtorrent", out, map[string]string{"six.bin": sum})
}

// TestADualStackSeederIsOnePeerOnRedis is the counting half of the test
// above with the tracker on Redis: the announce script ties the seeder's
// two announces into one peer too.
func TestADualStackSeederIsOnePeerOnRedis(t *testing.T) {
	r := testenv.StartRedis(t)
	tp := startTracker(t, "[::]:%d", nil, "--interval", "2s", "--min-interval", "1s", "--redis-url", "redis://"+r.Addr+"/0")
	url4 := tp.announceURL()
	url6 := fmt.Sprintf("http://[::1]:%d/announce", tp.httpPort)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	testenv.WriteRandomFile(t, filepath.Join(data, "six.bin"), 1<<20+7, 22)
	seedPort := testenv.FreeTCPPort(t)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{url4, url6},
		"--piece-length", "64K", "--listen", fmt.Sprintf("[::]:%d", seedPort))
	eventually(t, "answers over both families", func() bool {
		a := sp.status(t)["six.bin"].Announced
		return a["ipv4"] == url4 && a["ipv6"] == url6
	}, func() string { return sp.proc.Tail(3000) })
	st := sp.status(t)["six.bin"]
	if c, ok := scrapeComplete(t, tp, st.InfoHash); !ok || c != 1 {
		t.Fatalf("scrape: complete %d (listed %v), want the one dual-stack seeder", c, ok)
	}
	m := scrapeMetrics(t, tp.adminPort)
	if n := m[`bitorigin_tracker_peers{family="both",role="seeder",store="redis"}`]; n != 1 {
		t.Fatalf("tracker counts %v dual-stack seeders, want 1; metrics: %v", n, m)
	}
	want4 := append(net.ParseIP("127.0.0.1").To4(), byte(seedPort>>8), byte(seedPort))
	want6 := append(net.ParseIP("::1").To16(), byte(seedPort>>8), byte(seedPort))
	for _, c := range []struct {
		url, field string
		want       []byte
	}{{url4, "peers", want4}, {url6, "peers6", want6}} {
		complete, peers := probeAnnounce(t, c.url, st.InfoHash)
		if complete != 1 || !bytes.Equal(peers[c.field], c.want) {
			t.Fatalf("announce to %s: complete %d, %s %x; want 1 and the seeder at %x", c.url, complete, c.field, peers[c.field], c.want)
		}
	}
}

// probeAnnounce announces a leecher to announceURL, over the family the
// URL names, and returns the complete count and the peers and peers6
// fields of the answer.
func probeAnnounce(t *testing.T, announceURL, infoHashHex string) (int, map[string][]byte) {
	t.Helper()
	hash, err := hex.DecodeString(infoHashHex)
	if err != nil {
		t.Fatal(err)
	}
	u := announceURL + "?info_hash=" + url.QueryEscape(string(hash)) + "&peer_id=-PR0001-000000000001&port=6999" +
		"&uploaded=0&downloaded=0&left=1&compact=1&numwant=50&key=5eed"
	code, body := httpGet(t, u)
	if code != 200 {
		t.Fatalf("announce %s: HTTP %d %q", u, code, body)
	}
	v, err := bencode.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("announce answer %q: %v", body, err)
	}
	// Gone again, so that the seeder does not dial a peer nobody runs.
	httpGet(t, u+"&event=stopped")
	top, _ := v.(map[string]any)
	c, _ := top["complete"].(int64)
	out := map[string][]byte{}
	for _, f := range []string{"peers", "peers6"} {
		if s, ok := top[f].(string); ok {
			out[f] = []byte(s)
		}
	}
	return int(c), out
}
