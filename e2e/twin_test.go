package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
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
		// Registered as a torrent of its own, and in its own swarm.
		reg := registered(t, tp, token)
		if !slices.Contains(reg, tw.InfoHash) || !slices.Contains(reg, h.InfoHash) {
			t.Fatalf("registered %v, want the hybrid %s and its twin %s", reg, h.InfoHash, tw.InfoHash)
		}
		waitScrape(t, tp, tw.InfoHash, func(c, _, _ int) bool { return c == 1 })
		twinFiles = append(twinFiles, tw.Torrent)
	}
	// Transmission reads the twin with the same info hash.
	show := testenv.Start(t, testenv.LookPath(t, "transmission-show"), []string{twinFiles[1]})
	if err := show.Wait(10*time.Second); err != nil || !strings.Contains(string(show.Output()), "Hash: "+twins["album"].InfoHash) {
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
