package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// seederProc is our seeder binary running `serve` for a test.
type seederProc struct {
	proc      *testenv.Proc
	port      int
	adminPort int
	data      string
	torrents  string
}

func (sp *seederProc) addr() string { return fmt.Sprintf("127.0.0.1:%d", sp.port) }

// startSeeder runs `seeder serve` on data, with torrents in torrentDir,
// and waits until it is ready (verification done).
func startSeeder(t *testing.T, data, torrentDir string, trackers []string, args ...string) *seederProc {
	t.Helper()
	bin := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/seeder")
	// The DHT node takes the peer port over UDP: both must be free.
	sp := &seederProc{port: testenv.FreePort(t), adminPort: testenv.FreeTCPPort(t), data: data, torrents: torrentDir}
	all := []string{"serve", "--data", data, "--torrents", torrentDir,
		"--listen", sp.addr(), "--admin-addr", fmt.Sprintf("127.0.0.1:%d", sp.adminPort), "--log-level", "debug"}
	for _, tr := range trackers {
		all = append(all, "--tracker", tr)
	}
	sp.proc = testenv.Start(t, bin, append(all, args...))
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", sp.adminPort)); code == 200 {
			return sp
		}
		if sp.proc.Exited() || time.Now().After(deadline) {
			t.Fatalf("seeder did not become ready:\n%s", sp.proc.Tail(3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// torrentStatus is one entry of the seeder's /torrents.
type torrentStatus struct {
	Name       string            `json:"name"`
	InfoHash   string            `json:"info_hash"`
	InfoHashV2 string            `json:"info_hash_v2"`
	TwinOf     string            `json:"twin_of"`
	V1Twin     string            `json:"v1_twin"`
	Size       int64             `json:"size"`
	Pieces     int               `json:"pieces"`
	Verified   int               `json:"verified_pieces"`
	Peers      int               `json:"peers"`
	Uploaded   int64             `json:"uploaded"`
	Announced  map[string]string `json:"announced"`
	Torrent    string            `json:"torrent"`
	Magnet     string            `json:"magnet"`
	Offload    *struct {
		Copies    float64 `json:"copies"`
		Offered   uint64  `json:"offered_pieces"`
		Spreading int     `json:"spreading_pieces"`
	} `json:"offload"`
}

// status returns the seeder's torrents by name, but for the v1-only twins
// of hybrids, which have their hybrid's name (see twins).
func (sp *seederProc) status(t *testing.T) map[string]torrentStatus {
	t.Helper()
	m, _ := sp.statusAndTwins(t)
	return m
}

// twins returns the v1-only twins of the seeder's hybrids by name.
func (sp *seederProc) twins(t *testing.T) map[string]torrentStatus {
	t.Helper()
	_, twins := sp.statusAndTwins(t)
	return twins
}

func (sp *seederProc) statusAndTwins(t *testing.T) (torrents, twins map[string]torrentStatus) {
	t.Helper()
	code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/torrents", sp.adminPort))
	if code != 200 {
		t.Fatalf("/torrents: HTTP %d", code)
	}
	var list []torrentStatus
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("/torrents %q: %v", body, err)
	}
	torrents, twins = map[string]torrentStatus{}, map[string]torrentStatus{}
	for _, s := range list {
		if s.TwinOf != "" {
			twins[s.Name] = s
		} else {
			torrents[s.Name] = s
		}
	}
	return torrents, twins
}

// content writes the sample content folder: a single file and a folder of
// files, none a multiple of any piece length.
func content(t *testing.T, dir string, single int64) map[string]string {
	t.Helper()
	files := map[string]int64{
		"single.bin":          single,
		"album/01 intro.bin":  700001,
		"album/cover/art.bin": 123457,
		"album/notes.txt":     999,
	}
	sums := map[string]string{}
	seed := uint64(1)
	for name, size := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		testenv.WriteRandomFile(t, p, size, seed)
		seed++
		sums[name] = testenv.SHA256File(t, p)
	}
	return sums
}

func checkFiles(t *testing.T, who, dir string, sums map[string]string) {
	t.Helper()
	for name, want := range sums {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", who, err)
			continue
		}
		if got := testenv.SHA256File(t, p); got != want {
			t.Errorf("%s: %s has SHA-256 %s, want %s", who, name, got, want)
		}
	}
}

// ltClientScript is the absolute path of testdata/lt_client.py, the
// libtorrent client the tests run with testenv.DebianPython.
func ltClientScript(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs("testdata/lt_client.py")
	if err != nil {
		t.Fatal(err)
	}
	return script
}

func aria2Args(dir string, port int, torrents ...string) []string {
	return append([]string{
		"--no-conf=true", "--dir=" + dir, "--seed-time=0", "-Z",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--listen-port=" + strconv.Itoa(port), "--dht-listen-port=" + strconv.Itoa(port),
		"--disable-ipv6=true", "--file-allocation=none", "--follow-torrent=mem", "--summary-interval=0",
		"--bt-stop-timeout=120",
	}, torrents...)
}

// waitTransmission waits up to two minutes for Transmission to finish
// every named torrent (its done script leaves one file per name in done).
func waitTransmission(t *testing.T, sp *seederProc, done string, names ...string) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		finished := 0
		for _, name := range names {
			if _, err := os.Stat(filepath.Join(done, name)); err == nil {
				finished++
			}
		}
		if finished == len(names) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Transmission completed %d of %d torrents; seeder log:\n%s", finished, len(names), sp.proc.Tail(4000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// transmission starts transmission-daemon with everything that reaches
// outside turned off, adds the torrents through transmission-remote, and
// returns the folder where a file per completed torrent appears.
func transmission(t *testing.T, work string, torrents ...string) (downloads, done string) {
	t.Helper()
	return transmissionWith(t, work, nil, torrents...)
}

// transmissionWith is transmission with settings.json entries replaced by
// settings.
func transmissionWith(t *testing.T, work string, settings map[string]any, torrents ...string) (downloads, done string) {
	t.Helper()
	daemon := testenv.LookPath(t, "transmission-daemon")
	remote := testenv.LookPath(t, "transmission-remote")
	conf := filepath.Join(work, "transmission")
	downloads = filepath.Join(work, "transmission-downloads")
	done = filepath.Join(work, "transmission-done")
	for _, d := range []string{conf, downloads, done} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(conf, "done.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch \""+done+"/$TR_TORRENT_NAME\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rpcPort := testenv.FreeTCPPort(t)
	all := map[string]any{
		"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "port-forwarding-enabled": false,
		"utp-enabled": false, "bind-address-ipv4": "127.0.0.1", "peer-port": testenv.FreePort(t),
		"peer-port-random-on-start": false, "rpc-enabled": true, "rpc-port": rpcPort, "rpc-bind-address": "127.0.0.1",
		"rpc-authentication-required": false, "rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
		"download-dir": downloads, "incomplete-dir-enabled": false, "watch-dir-enabled": false,
		"download-queue-enabled": false, "seed-queue-enabled": false, "queue-stalled-enabled": false,
		"speed-limit-up-enabled": false, "speed-limit-down-enabled": false, "alt-speed-enabled": false,
		"ratio-limit-enabled": false, "start-added-torrents": true, "encryption": 1,
		"script-torrent-done-enabled": true, "script-torrent-done-filename": script, "message-level": 2,
	}
	maps.Copy(all, settings)
	b, _ := json.Marshal(all)
	if err := os.WriteFile(filepath.Join(conf, "settings.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, daemon, []string{"-f", "-g", conf})
	endpoint := fmt.Sprintf("127.0.0.1:%d", rpcPort)
	deadline := time.Now().Add(20 * time.Second)
	for _, tor := range torrents {
		for {
			add := testenv.Start(t, remote, []string{endpoint, "-a", tor})
			if add.Wait(10*time.Second) == nil && bytes.Contains(add.Output(), []byte("success")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("transmission-remote -a %s: %s", tor, add.Output())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return downloads, done
}

// TestStandardClientsDownloadFromOurSeeder has aria2c, Transmission and
// libtorrent each download a single-file and a multi-file torrent from our
// seeder through our tracker, while a second libtorrent gets a magnet link
// without trackers and only the seeder's address. Then SIGTERM stops the
// seeder, which tells the tracker.
func TestStandardClientsDownloadFromOurSeeder(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	aria := testenv.LookPath(t, "aria2c")
	script := ltClientScript(t)
	// A short interval: the seeder learns of new leechers (and dials the
	// Transmission one) on its next announce.
	tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s")
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 6<<20+12345)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()}, "--piece-length", "256K")
	st := sp.status(t)
	single, album := st["single.bin"], st["album"]
	if single.InfoHash == "" || album.InfoHash == "" || single.Verified != single.Pieces {
		t.Fatalf("/torrents: %+v", st)
	}
	out := string(sp.proc.Output())
	for _, s := range []torrentStatus{single, album} {
		for _, want := range []string{"info hash: " + s.InfoHash, "torrent:   " + s.Torrent, "magnet:    " + s.Magnet} {
			if !strings.Contains(out, want) {
				t.Fatalf("start-up output lacks %q:\n%s", want, out)
			}
		}
	}
	waitScrape(t, tp, single.InfoHash, func(c, _, _ int) bool { return c == 1 })
	torrents := []string{single.Torrent, album.Torrent}

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, testenv.FreePort(t), torrents...))
	ltDir := filepath.Join(work, "libtorrent")
	ltProc := testenv.Start(t, py, append([]string{script, "fetchmany", ltDir, strconv.Itoa(testenv.FreePort(t)), "150", "-"}, torrents...))
	magnetDir := filepath.Join(work, "magnet")
	bare := "magnet:?xt=urn:btih:" + album.InfoHash + "&dn=album"
	magnetProc := testenv.Start(t, py, []string{script, "fetchmany", magnetDir, strconv.Itoa(testenv.FreePort(t)), "150", sp.addr(), bare})
	trDir, trDone := transmission(t, work, torrents...)

	for _, p := range []*testenv.Proc{ariaProc, ltProc, magnetProc} {
		if err := p.Wait(180 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s", p.Name, err, p.Tail(3000))
		}
	}
	waitTransmission(t, sp, trDone, "single.bin", "album")
	checkFiles(t, "aria2c", ariaDir, sums)
	checkFiles(t, "libtorrent", ltDir, sums)
	checkFiles(t, "transmission", trDir, sums)
	magnetSums := map[string]string{}
	for name, sum := range sums {
		if strings.HasPrefix(name, "album/") {
			magnetSums[name] = sum
		}
	}
	checkFiles(t, "libtorrent magnet", magnetDir, magnetSums)

	// Nobody else had the data: every piece left our seeder at least once
	// (with offload on, the default, the clients trade the rest).
	st = sp.status(t)
	if st["single.bin"].Uploaded < single.Size || st["album"].Uploaded < album.Size {
		t.Errorf("uploaded %d and %d bytes, want at least %d and %d", st["single.bin"].Uploaded, st["album"].Uploaded, single.Size, album.Size)
	}

	if err := sp.proc.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("seeder exit after SIGTERM: %v\n%s", err, sp.proc.Tail(3000))
	}
	// Both torrents told the tracker they stopped (the scrape cannot
	// tell: Transmission, still running, may count as a seeder by now).
	out = string(sp.proc.Output())
	if strings.Count(out, `msg="announced stopped"`) != 2 || !strings.Contains(out, "seeder stopped") {
		t.Fatalf("no stopped announces or shutdown log:\n%s", sp.proc.Tail(3000))
	}
}
