package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

// registrationTracker starts our tracker in allow-list mode with
// registration and a short interval, and returns it, its admin token and
// a file holding the token, for the seeder's --register-token-file.
func registrationTracker(t *testing.T, work string) (tp *trackerProc, token, tokenFile string) {
	t.Helper()
	token = "e2e-admin-token-0123456789"
	tokenFile = filepath.Join(work, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tp = startTracker(t, "", []string{"TRACKER_ADMIN_TOKEN=" + token}, "--registration", "--interval", "2s", "--min-interval", "1s")
	return tp, token, tokenFile
}

// TestAria2AndTransmissionDownloadTheV1TwinOfAHybridRelease serves hybrid
// releases (serve --hybrid, twins on by default) through our tracker in
// registration mode. Each hybrid's v1-only twin is written beside it,
// registered and announced as a torrent of its own, and shown in /torrents
// and the start-up output; aria2c and Transmission, which cannot use the
// hybrid, download the twins and get exactly the files: no .pad folder.
func TestAria2AndTransmissionDownloadTheV1TwinOfAHybridRelease(t *testing.T) {
	aria := testenv.LookPath(t, "aria2c")
	work := t.TempDir()
	tp, token, tokenFile := registrationTracker(t, work)
	data, torrents := filepath.Join(work, "data"), filepath.Join(work, "torrents")
	sums := content(t, data, 2<<20+12345)
	sp := startSeeder(t, data, torrents, []string{tp.announceURL()}, "--hybrid", "--piece-length", "64K",
		"--register-url", fmt.Sprintf("http://127.0.0.1:%d", tp.adminPort), "--register-token-file", tokenFile)
	hybrids, twins := sp.statusAndTwins(t)
	out := string(sp.proc.Output())
	var twinFiles []string
	for _, name := range []string{"single.bin", "album"} {
		h, tw := hybrids[name], twins[name]
		if h.InfoHashV2 == "" || tw.InfoHashV2 != "" || tw.TwinOf != h.InfoHash || h.V1Twin != tw.InfoHash || tw.InfoHash == h.InfoHash {
			t.Fatalf("%s: hybrid %+v\ntwin %+v", name, h, tw)
		}
		if tw.Torrent != filepath.Join(torrents, name+".v1.torrent") || tw.Verified != tw.Pieces ||
			tw.Magnet != "magnet:?xt=urn:btih:"+tw.InfoHash+"&dn="+name+"&tr="+strings.ReplaceAll(strings.ReplaceAll(tp.announceURL(), ":", "%3A"), "/", "%2F") {
			t.Fatalf("%s: twin %+v", name, tw)
		}
		for _, want := range []string{"info hash: " + tw.InfoHash + "\ntwin of:   " + h.InfoHash, "magnet:    " + tw.Magnet,
			`twin_of=` + h.InfoHash} {
			if !strings.Contains(out, want) {
				t.Fatalf("seeder output lacks %q:\n%s", want, out)
			}
		}
		// Registered as a torrent of its own, and in its own swarm. The
		// seeder registers once it serves, after /readyz turns ready.
		var reg []string
		if !testenv.Poll(30*time.Second, func() bool {
			reg = registered(t, tp, token)
			return slices.Contains(reg, tw.InfoHash) && slices.Contains(reg, h.InfoHash)
		}) {
			t.Fatalf("registered %v, want the hybrid %s and its twin %s; seeder log:\n%s", reg, h.InfoHash, tw.InfoHash, sp.proc.Tail(3000))
		}
		waitScrape(t, tp, tw.InfoHash, func(c, _, _ int) bool { return c == 1 })
		twinFiles = append(twinFiles, tw.Torrent)
	}
	// Transmission reads the twin with the same info hash.
	show := testenv.Start(t, testenv.LookPath(t, "transmission-show"), []string{twinFiles[1]})
	if err := show.Wait(10 * time.Second); err != nil || !strings.Contains(string(show.Output()), "Hash: "+twins["album"].InfoHash) {
		t.Fatalf("transmission-show %s: %v\n%s", twinFiles[1], err, show.Output())
	}

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, testenv.FreePort(t), twinFiles...))
	trDir, trDone := transmission(t, work, twinFiles...)
	if err := ariaProc.Wait(180 * time.Second); err != nil {
		t.Fatalf("aria2c: %v\n%s\nseeder log:\n%s", err, ariaProc.Tail(3000), sp.proc.Tail(4000))
	}
	waitTransmission(t, sp, trDone, "single.bin", "album")
	checkFiles(t, "aria2c", ariaDir, sums)
	checkFiles(t, "transmission", trDir, sums)
	for _, dir := range []string{ariaDir, trDir} {
		if _, err := os.Stat(filepath.Join(dir, "album", ".pad")); !os.IsNotExist(err) {
			t.Errorf("%s: a .pad folder in the download (%v)", dir, err)
		}
	}
	st := sp.twins(t)
	if st["album"].Uploaded < st["album"].Size || st["single.bin"].Uploaded < st["single.bin"].Size {
		t.Errorf("the twins uploaded %d and %d bytes, want at least their sizes", st["album"].Uploaded, st["single.bin"].Uploaded)
	}
}

// TestClientsOfEitherHashOfAHybridAreGivenToEachOther registers a hybrid
// release with our tracker as the seeder does (its v2 hash as an alias of
// its v1 hash), then starts two real clients that each know one hash only:
// aria2c with a v1 magnet link (xt=urn:btih, the v1 hash) and libtorrent
// with a v2 one (xt=urn:btmh, so it announces the truncated v2 hash). Nobody
// has the metadata, so neither client ever learns the other hash, and DHT,
// LSD and PEX are off: each dials the other only if the tracker gave it
// the other's address, across the two hashes. libtorrent reports its dials
// (DIAL), aria2c logs them ("Connecting to"). Without the alias (the two
// hashes registered as two torrents) neither dials the other.
func TestClientsOfEitherHashOfAHybridAreGivenToEachOther(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	aria := testenv.LookPath(t, "aria2c")
	script := ltClientScript(t)
	work := t.TempDir()
	tp, token, _ := registrationTracker(t, work)
	release := filepath.Join(work, "data", "release")
	testenv.WriteRandomFile(t, filepath.Join(release, "a.bin"), 3<<20+777, 5)
	testenv.WriteRandomFile(t, filepath.Join(release, "b.bin"), 300001, 6)
	hybrid, err := metainfo.Create(context.Background(), release, metainfo.CreateOptions{Version: metainfo.Hybrid,
		PieceLength: 64 << 10, Trackers: [][]string{{tp.announceURL()}}})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := hybrid.InfoHashV1()
	v2, _ := hybrid.InfoHashV2()
	// What Registrar.RegisterHybrid sends.
	if code := admin(t, tp, token, "PUT", "/admin/torrents/"+v1.String()+"?v2="+v2.String()); code != 204 {
		t.Fatalf("registering the hybrid: HTTP %d", code)
	}
	tracker := "&tr=" + url.QueryEscape(tp.announceURL())

	// aria2c first, so that libtorrent's first announce finds it.
	ariaPort, ltPort := testenv.FreePort(t), testenv.FreePort(t)
	ariaProc := testenv.Start(t, aria, append(aria2Args(filepath.Join(work, "aria2"), ariaPort,
		"magnet:?xt=urn:btih:"+v1.String()+tracker), "--log=-", "--log-level=debug"))
	waitScrape(t, tp, v1.String(), func(c, i, _ int) bool { return c+i == 1 })
	lt := testenv.Start(t, py, []string{script, "fetchmany", filepath.Join(work, "libtorrent"), strconv.Itoa(ltPort), "120", "-",
		"magnet:?xt=urn:btmh:1220" + v2.String() + tracker})
	if err := lt.WaitOutput(fmt.Sprintf("DIAL 127.0.0.1:%d", ariaPort), 60*time.Second); err != nil {
		t.Fatalf("libtorrent, in the v2 swarm, never dialled aria2c (port %d) of the v1 swarm: %v\n%s", ariaPort, err, lt.Tail(3000))
	}
	if err := ariaProc.WaitOutput(fmt.Sprintf("Connecting to 127.0.0.1:%d", ltPort), 60*time.Second); err != nil {
		t.Fatalf("aria2c, in the v1 swarm, never dialled libtorrent (port %d) of the v2 swarm: %v\n%s", ltPort, err, ariaProc.Tail(3000))
	}
	// One swarm: a scrape of either hash counts both clients.
	for _, h := range []string{v1.String(), v2.Truncate().String()} {
		waitScrape(t, tp, h, func(c, i, _ int) bool { return c+i == 2 })
	}
}
