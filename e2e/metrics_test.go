package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

// promtoolCheck runs `promtool check metrics` on one scrape of a binary's
// /metrics: Prometheus's own linter (naming, units, _total counters, help).
func promtoolCheck(t *testing.T, who string, adminPort int) {
	t.Helper()
	promtool := testenv.LookPath(t, "promtool")
	code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", adminPort))
	if code != 200 {
		t.Fatalf("%s /metrics: HTTP %d", who, code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics on the %s's scrape: %v\n%s", who, err, out)
	}
}

// TestMetricsShowARealDownloadAndPassPromtool has aria2c download a file
// from our seeder through our tracker, then reads both binaries' /metrics:
// the seeder counts the bytes, requests and announces, the tracker the
// announces and the download, and the tracker's per-torrent downloads and
// the seeder's torrent size share the info hash the release dashboard
// joins on. Both scrapes pass promtool's linter.
func TestMetricsShowARealDownloadAndPassPromtool(t *testing.T) {
	aria := testenv.LookPath(t, "aria2c")
	work := t.TempDir()
	data := filepath.Join(work, "data")
	torrents := filepath.Join(work, "torrents")
	const name, size = "release.iso", 6<<20 + 12345
	src := filepath.Join(data, name)
	testenv.WriteRandomFile(t, src, size, 7)

	// The torrent is made first, so that the tracker's allow list (which
	// per-torrent metrics need) can name it; the seeder adds the tracker
	// to it, which leaves the info hash as it is.
	meta, err := metainfo.Create(context.Background(), src, metainfo.CreateOptions{PieceLength: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := meta.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(torrents, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(torrents, name+".torrent"), enc, 0o644); err != nil {
		t.Fatal(err)
	}
	hash := meta.InfoHash().String()
	allow := filepath.Join(work, "allow.txt")
	if err := os.WriteFile(allow, []byte(hash+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s",
		"--allow-list", allow, "--per-torrent-metrics")
	sp := startSeeder(t, data, torrents, []string{tp.announceURL()})
	st := sp.status(t)[name]
	if st.InfoHash != hash {
		t.Fatalf("seeder serves %s as %q, want the info hash %s", name, st.InfoHash, hash)
	}
	waitScrape(t, tp, hash, func(complete, _, _ int) bool { return complete == 1 })

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, testenv.FreePort(t), st.Torrent))
	if err := ariaProc.Wait(180 * time.Second); err != nil {
		t.Fatalf("aria2c: %v\n%s", err, ariaProc.Tail(3000))
	}
	if got, want := testenv.SHA256File(t, filepath.Join(ariaDir, name)), testenv.SHA256File(t, src); got != want {
		t.Fatalf("aria2c's copy has SHA-256 %s, want %s", got, want)
	}
	waitScrape(t, tp, hash, func(_, _, downloaded int) bool { return downloaded >= 1 })

	torrent := fmt.Sprintf(`{info_hash="%s",name="%s"}`, hash, name)
	s := scrapeMetrics(t, sp.adminPort)
	for _, c := range []struct {
		series string
		min    float64
	}{
		{"bitorigin_seeder_uploaded_bytes_total" + torrent, size},
		{"bitorigin_seeder_torrent_size_bytes" + torrent, size},
		{"bitorigin_seeder_requests_served_total", 1},
		{`bitorigin_seeder_announces_total{result="ok"}`, 1},
		{"bitorigin_seeder_disk_read_duration_seconds_count", 1},
		{`bitorigin_seeder_torrents{state="complete"}`, 1},
		{`bitorigin_seeder_torrent_pieces{info_hash="` + hash + `",name="` + name + `",state="verified"}`, float64(meta.Info.NumPieces())},
	} {
		if s[c.series] < c.min {
			t.Errorf("seeder: %s = %v, want at least %v", c.series, s[c.series], c.min)
		}
	}
	if got := s["bitorigin_seeder_torrent_size_bytes"+torrent]; got != size {
		t.Errorf("seeder: torrent size %v, want %d", got, size)
	}
	if in, out := s[`bitorigin_seeder_connections_total{direction="incoming"}`], s[`bitorigin_seeder_connections_total{direction="outgoing"}`]; in+out < 1 {
		t.Errorf("seeder: %v incoming and %v outgoing connections counted, want aria2c's", in, out)
	}

	m := scrapeMetrics(t, tp.adminPort)
	for _, c := range []struct {
		series string
		min    float64
	}{
		// The seeder's started and aria2c's started and completed.
		{`bitorigin_tracker_requests_total{action="announce",protocol="http",result="ok"}`, 3},
		{"bitorigin_tracker_downloads_completed_total", 1},
		// The series the release dashboard joins with the seeder's size.
		{`bitorigin_tracker_torrent_downloads{info_hash="` + hash + `"}`, 1},
	} {
		if m[c.series] < c.min {
			t.Errorf("tracker: %s = %v, want at least %v", c.series, m[c.series], c.min)
		}
	}

	promtoolCheck(t, "seeder", sp.adminPort)
	promtoolCheck(t, "tracker", tp.adminPort)
}
