// Package e2e holds end-to-end tests: our binaries with real BitTorrent
// clients from Debian, on loopback.
package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackpal/bencode-go"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testenv.RemoveBuilds(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

type trackerProc struct {
	proc      *testenv.Proc
	httpPort  int
	adminPort int
}

// udpURL is the tracker's udp:// URL.
func (tp *trackerProc) udpURL() string {
	return fmt.Sprintf("udp://127.0.0.1:%d/announce", tp.httpPort)
}

// announceURL is the URL clients use. libtorrent refuses any other path on
// a loopback tracker (SSRF mitigation), so it must be /announce.
func (tp *trackerProc) announceURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/announce", tp.httpPort)
}

// startTracker runs our tracker binary on free loopback ports and waits
// until it is ready. httpAddr may be "" for 127.0.0.1 on a free port.
func startTracker(t *testing.T, httpAddr string, env []string, args ...string) *trackerProc {
	t.Helper()
	bin := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/tracker")
	// One port number for HTTP and UDP, as a tracker is usually run.
	tp := &trackerProc{httpPort: testenv.FreePort(t), adminPort: testenv.FreeTCPPort(t)}
	if httpAddr == "" {
		httpAddr = "127.0.0.1:%d"
	}
	all := append([]string{
		"--http-addr", fmt.Sprintf(httpAddr, tp.httpPort),
		"--udp-addr", fmt.Sprintf(httpAddr, tp.httpPort),
		"--admin-addr", fmt.Sprintf("127.0.0.1:%d", tp.adminPort),
		"--log-level", "debug",
	}, args...)
	tp.proc = testenv.Start(t, bin, all, testenv.Env(env...))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", tp.adminPort)); code == 200 {
			return tp
		}
		if tp.proc.Exited() || time.Now().After(deadline) {
			t.Fatalf("tracker did not become ready:\n%s", tp.proc.Tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type reply struct {
	Failure    string `bencode:"failure reason"`
	Complete   int    `bencode:"complete"`
	Incomplete int    `bencode:"incomplete"`
	Downloaded int    `bencode:"downloaded"`
	Interval   int    `bencode:"interval"`
	Peers      string `bencode:"peers"`
	Peers6     string `bencode:"peers6"`
}

func announce(t *testing.T, base string, hash []byte, peer string, port, left int, extra string) reply {
	t.Helper()
	u := fmt.Sprintf("%s?info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=%d%s",
		base, url.QueryEscape(string(hash)), url.QueryEscape(fmt.Sprintf("%-20s", peer)), port, left, extra)
	code, body := httpGet(t, u)
	if code != 200 {
		t.Fatalf("GET %s: HTTP %d", u, code)
	}
	var r reply
	if err := bencode.Unmarshal(bytes.NewReader(body), &r); err != nil {
		t.Fatalf("announce reply %q: %v", body, err)
	}
	return r
}

func TestTrackerBinaryServesBothFamiliesReloadsAndStopsCleanly(t *testing.T) {
	hashA := bytes.Repeat([]byte{0xaa}, 20)
	hashB := bytes.Repeat([]byte{0xbb}, 20)
	allow := filepath.Join(t.TempDir(), "allow.txt")
	if err := os.WriteFile(allow, []byte(fmt.Sprintf("%x\n", hashA)), 0o644); err != nil {
		t.Fatal(err)
	}
	// ":%d" is the default form of --http-addr: one socket, both families.
	// Only loopback addresses are dialled.
	tp := startTracker(t, ":%d", []string{"TRACKER_INTERVAL=2m", "TRACKER_MIN_INTERVAL=1m"}, "--allow-list", allow)
	v4 := fmt.Sprintf("http://127.0.0.1:%d/announce", tp.httpPort)
	v6 := fmt.Sprintf("http://[::1]:%d/announce", tp.httpPort)

	r := announce(t, v6, hashA, "seed6", 7001, 0, "")
	if r.Failure != "" {
		t.Fatalf("IPv6 announce: %s", r.Failure)
	}
	if r.Interval < 114 || r.Interval > 126 {
		t.Fatalf("interval %d: TRACKER_INTERVAL=2m (±5%%) not applied", r.Interval)
	}
	announce(t, v4, hashA, "seed4", 7002, 0, "")
	r = announce(t, v6, hashA, "leech6", 7003, 10, "")
	want6 := append(bytes.Repeat([]byte{0}, 15), 1, 0x1b, 0x59) // [::1]:7001
	if r.Peers6 != string(want6) || r.Peers != "" {
		t.Fatalf("IPv6 leecher: peers %x peers6 %x, want peers6 %x", r.Peers, r.Peers6, want6)
	}
	r = announce(t, v4, hashA, "leech4", 7004, 10, "")
	if r.Peers != "\x7f\x00\x00\x01\x1b\x5a" || r.Complete != 2 || r.Incomplete != 2 {
		t.Fatalf("IPv4 leecher: %+v", r)
	}

	if r := announce(t, v4, hashB, "x", 7005, 0, ""); !strings.Contains(r.Failure, "unregistered torrent") {
		t.Fatalf("unlisted torrent: %+v", r)
	}
	if err := os.WriteFile(allow, []byte(fmt.Sprintf("%x\n%x\n", hashA, hashB)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tp.proc.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := tp.proc.WaitOutput("allow list reloaded", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if r := announce(t, v4, hashB, "x", 7005, 0, ""); r.Failure != "" {
		t.Fatalf("torrent added by reload: %s", r.Failure)
	}
	// The reload dropped no swarm.
	if r := announce(t, v4, hashA, "leech4", 7004, 10, ""); r.Complete != 2 {
		t.Fatalf("after reload: %+v", r)
	}

	if err := tp.proc.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("tracker exit after SIGTERM: %v\n%s", err, tp.proc.Tail(2000))
	}
	if !bytes.Contains(tp.proc.Output(), []byte("tracker stopped")) {
		t.Fatalf("no shutdown log:\n%s", tp.proc.Tail(2000))
	}
}

func TestTrackerBinaryRejectsBadConfiguration(t *testing.T) {
	bin := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/tracker")
	cases := []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"--allow-list", "/nonexistent/allow.txt"}, nil, "--allow-list"},
		{[]string{"--trusted-proxies", "10.0.0.0/99"}, nil, "--trusted-proxies"},
		{[]string{"--min-interval", "1h", "--interval", "30m"}, nil, "min interval"},
		{nil, []string{"TRACKER_INTERVAL=soon"}, "TRACKER_INTERVAL"},
		{[]string{"--log-level", "loud"}, nil, "log level"},
	}
	for _, c := range cases {
		args := append([]string{"--http-addr", "127.0.0.1:0", "--udp-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, c.args...)
		p := testenv.Start(t, bin, args, testenv.Env(c.env...))
		err := p.Wait(10 * time.Second)
		if err == nil {
			t.Errorf("%v %v: exited 0, want an error", c.args, c.env)
			continue
		}
		if out := string(p.Output()); !strings.Contains(out, c.want) {
			t.Errorf("%v %v: output lacks %q:\n%s", c.args, c.env, c.want, out)
		}
	}
	p := testenv.Start(t, bin, []string{"--help"})
	if err := p.Wait(10 * time.Second); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, flag := range []string{"--http-addr", "--admin-addr", "--interval", "--min-interval", "--peer-lifetime",
		"--numwant-default", "--numwant-max", "--scrape-max", "--allow-list", "--trusted-proxies", "--full-scrape"} {
		if !bytes.Contains(p.Output(), []byte(flag+" ")) && !bytes.Contains(p.Output(), []byte(flag+"\n")) {
			t.Errorf("--help does not document %s", flag)
		}
	}
}

// TestRealClientsDownloadThroughOurTracker has libtorrent seed a generated
// file, and aria2c and libtorrent download it, each finding the seeder only
// through our tracker's HTTP announce URL.
func TestRealClientsDownloadThroughOurTracker(t *testing.T) {
	// libtorrent re-announces no sooner than every 5 minutes whatever the
	// interval says, so peers must outlive that.
	tp := startTracker(t, "", nil, "--interval", "5m", "--min-interval", "1m")
	downloadThroughTracker(t, tp, tp.announceURL(), nil)
}

// downloadThroughTracker seeds a generated file with libtorrent from a
// torrent whose only tracker is trackerURL, downloads it with aria2c and
// libtorrent, compares SHA-256, and waits for our tracker to count both
// downloads. ariaArgs are extra aria2c flags.
func downloadThroughTracker(t *testing.T, tp *trackerProc, trackerURL string, ariaArgs []string) {
	t.Helper()
	py := testenv.LookPath(t, testenv.DebianPython)
	aria := testenv.LookPath(t, "aria2c")
	script := ltClientScript(t)
	work := t.TempDir()
	seedDir := filepath.Join(work, "seed")
	const name = "release.iso"
	src := filepath.Join(seedDir, name)
	testenv.WriteRandomFile(t, src, 6<<20+12345, 42) // not a multiple of the piece size
	torrent := filepath.Join(work, "release.torrent")
	mk := testenv.Start(t, py, []string{script, "create", src, trackerURL, torrent, "262144"})
	if err := mk.Wait(60 * time.Second); err != nil {
		t.Fatalf("create torrent: %v\n%s", err, mk.Tail(2000))
	}
	infoHash := strings.TrimSpace(string(mk.Output()))

	seeder := testenv.Start(t, py, []string{script, "seed", torrent, seedDir, strconv.Itoa(testenv.FreePort(t))})
	if err := seeder.WaitOutput("SEEDING", 60*time.Second); err != nil {
		t.Fatalf("libtorrent seeder: %v\n%s", err, seeder.Tail(2000))
	}
	// Wait until the seeder is in the swarm, so the leechers find it on
	// their first announce.
	waitScrape(t, tp, infoHash, func(complete, _, _ int) bool { return complete == 1 })

	ariaDir := filepath.Join(work, "aria2")
	ariaPort := testenv.FreePort(t)
	args := append([]string{
		"--no-conf=true", "--dir=" + ariaDir, "--seed-time=0",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--listen-port=" + strconv.Itoa(ariaPort), "--dht-listen-port=" + strconv.Itoa(ariaPort),
		"--disable-ipv6=true", "--file-allocation=none", "--follow-torrent=mem", "--summary-interval=0",
		"--bt-stop-timeout=120",
	}, ariaArgs...)
	ariaProc := testenv.Start(t, aria, append(args, torrent))
	ltDir := filepath.Join(work, "libtorrent")
	ltProc := testenv.Start(t, py, []string{script, "fetch", torrent, ltDir, strconv.Itoa(testenv.FreePort(t)), "150"})

	if err := ariaProc.Wait(180 * time.Second); err != nil {
		t.Fatalf("aria2c: %v\n%s", err, ariaProc.Tail(3000))
	}
	if err := ltProc.Wait(180 * time.Second); err != nil {
		t.Fatalf("libtorrent fetch: %v\n%s", err, ltProc.Tail(3000))
	}
	want := testenv.SHA256File(t, src)
	for _, dir := range []string{ariaDir, ltDir} {
		if got := testenv.SHA256File(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s: SHA-256 %s, want %s", dir, got, want)
		}
	}
	// Both leechers told our tracker they completed.
	waitScrape(t, tp, infoHash, func(_, _, downloaded int) bool { return downloaded >= 2 })
	// And the tracker's metrics saw it all.
	m := scrapeMetrics(t, tp.adminPort)
	proto := "http"
	if strings.HasPrefix(trackerURL, "udp:") {
		proto = "udp"
	}
	for _, series := range []string{
		"bitorigin_tracker_downloads_completed_total",
		`bitorigin_tracker_requests_total{action="announce",protocol="` + proto + `",result="ok"}`,
	} {
		if m[series] < 2 {
			t.Errorf("metric %s = %v after two downloads", series, m[series])
		}
	}
}

// scrapeMetrics reads a binary's /metrics into series -> value (series
// written as in the exposition format, labels sorted as Prometheus writes
// them).
func scrapeMetrics(t *testing.T, adminPort int) map[string]float64 {
	t.Helper()
	code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", adminPort))
	if code != 200 {
		t.Fatalf("/metrics: HTTP %d", code)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out
}

// waitScrape polls our tracker's scrape for a torrent until ok holds.
func waitScrape(t *testing.T, tp *trackerProc, infoHashHex string, ok func(complete, incomplete, downloaded int) bool) {
	t.Helper()
	hash, err := hex.DecodeString(infoHashHex)
	if err != nil || len(hash) != 20 {
		t.Fatalf("info hash %q: %v", infoHashHex, err)
	}
	u := fmt.Sprintf("http://127.0.0.1:%d/scrape?info_hash=%s", tp.httpPort, url.QueryEscape(string(hash[:])))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last []byte
	for ctx.Err() == nil {
		_, body := httpGet(t, u)
		last = body
		v, err := bencode.Decode(bytes.NewReader(body))
		if err == nil {
			if files, ok2 := v.(map[string]any)["files"].(map[string]any); ok2 {
				if st, ok3 := files[string(hash[:])].(map[string]any); ok3 {
					c, _ := st["complete"].(int64)
					i, _ := st["incomplete"].(int64)
					d, _ := st["downloaded"].(int64)
					if ok(int(c), int(i), int(d)) {
						return
					}
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("scrape never reached the expected state; last reply %q", last)
}
