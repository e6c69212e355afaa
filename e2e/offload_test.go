package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// TestOffloadLetsTheSwarmCarryTheRelease has four libtorrent leechers and
// aria2c download one file from our rate-capped seeder through our
// tracker, twice: with --offload off and with --offload auto. Both times
// every copy is checked; with offload on, the origin's upload (from its
// metrics) must be below plain serving's, measured in the same test. It
// compares bytes, not speed.
func TestOffloadLetsTheSwarmCarryTheRelease(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	aria := testenv.LookPath(t, "aria2c")
	script := ltClientScript(t)
	const size = 8<<20 + 4321
	uploaded := map[string]float64{}
	for _, mode := range []string{"off", "auto"} {
		work := t.TempDir()
		data := filepath.Join(work, "data")
		file := filepath.Join(data, "release.bin")
		testenv.WriteRandomFile(t, file, size, 7)
		sum := testenv.SHA256File(t, file)
		tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s")
		// A cap slow enough that the leechers overlap and can trade.
		sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()},
			"--piece-length", "128K", "--upload-rate", "2M", "--offload", mode)
		rel := sp.status(t)["release.bin"]
		waitScrape(t, tp, rel.InfoHash, func(c, _, _ int) bool { return c == 1 })

		swarm := testenv.Start(t, py, []string{script, "swarm", filepath.Join(work, "lt"), "4", "150", rel.Torrent, file})
		ariaDir := filepath.Join(work, "aria2")
		ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, testenv.FreePort(t), rel.Torrent))
		for _, p := range []*testenv.Proc{swarm, ariaProc} {
			if err := p.Wait(180 * time.Second); err != nil {
				t.Fatalf("offload %s: %s: %v\n%s\nseeder log:\n%s", mode, p.Name, err, p.Tail(3000), sp.proc.Tail(3000))
			}
		}
		checkFiles(t, "aria2c (offload "+mode+")", ariaDir, map[string]string{"release.bin": sum})

		m := scrapeMetrics(t, sp.adminPort)
		key := fmt.Sprintf(`bitorigin_seeder_uploaded_bytes_total{info_hash="%s",name="release.bin"}`, rel.InfoHash)
		up, ok := m[key]
		if !ok {
			t.Fatalf("offload %s: no %s in the metrics", mode, key)
		}
		uploaded[mode] = up
		t.Logf("offload %s: the origin uploaded %.2f copies for 5 leechers", mode, up/size)
		if up < size {
			t.Fatalf("offload %s: the origin uploaded %.0f bytes, less than one copy (%d): somebody else served", mode, up, size)
		}
		if mode == "auto" {
			st := sp.status(t)["release.bin"]
			if st.Offload == nil || st.Offload.Offered < uint64(st.Pieces) {
				t.Fatalf("offload auto: /torrents shows %+v, want every piece offered at least once", st.Offload)
			}
			if _, ok := m[`bitorigin_seeder_swarm_copies{info_hash="`+rel.InfoHash+`",name="release.bin"}`]; !ok {
				t.Fatal("offload auto: no swarm_copies series in the metrics")
			}
		}
		if err := sp.proc.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
			t.Fatalf("seeder exit: %v", err)
		}
	}
	if uploaded["auto"] >= uploaded["off"] {
		t.Fatalf("the origin uploaded %.2f copies with offload and %.2f without: offload saved nothing",
			uploaded["auto"]/size, uploaded["off"]/size)
	}
	t.Logf("offload auto sent %s of what plain serving sent", strconv.FormatFloat(uploaded["auto"]/uploaded["off"], 'f', 2, 64))
}
