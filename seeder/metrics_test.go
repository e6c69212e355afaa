package seeder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/metrics"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// metricValue returns the value of the series name{labels} (label names
// and values in pairs) in reg: a counter's or gauge's value, a histogram's
// sample count. A missing series fails the test.
func metricValue(t *testing.T, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// lint fails the test on every problem Prometheus's linter finds in reg.
func lint(t *testing.T, reg prometheus.Gatherer) {
	t.Helper()
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// stubTracker answers announces: with a failure reason when fail is set.
type stubTracker struct{ fail bool }

func (s stubTracker) Announce(context.Context, string, *announcer.Request) (*announcer.Response, error) {
	if s.fail {
		return nil, &announcer.FailureError{URL: "stub", Reason: "refused"}
	}
	return &announcer.Response{Interval: time.Hour}, nil
}

// newMetricsForTest returns the seeder's metrics in a fresh registry, as
// the seeder binary builds them.
func newMetricsForTest(t testing.TB) (*prometheus.Registry, *Metrics) {
	t.Helper()
	reg := metrics.NewRegistry("seeder")
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return reg, m
}

// newContentMetricsForTest returns the metrics of the preparation of
// torrents in reg, as the seeder binary builds them beside the seeder's.
func newContentMetricsForTest(t testing.TB, reg prometheus.Registerer) *content.Metrics {
	t.Helper()
	m, err := content.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMetricsCountServingRejectsAnnouncesAndLintClean(t *testing.T) {
	reg, m := newMetricsForTest(t)
	tor, _ := contenttest.Complete(t, 100000, 32<<10)
	// The first tier refuses, the second answers.
	s, addr := serveTest(t, Config{
		Metrics:  m,
		Trackers: [][]string{{"fail://a"}, {"ok://b"}},
		Clients:  map[string]announcer.Client{"fail": stubTracker{fail: true}, "ok": stubTracker{}},
	}, tor)
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	p := connectPeer(t, addr, tor, fastReserved())
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	good := []peerwire.Request{{Index: 0, Begin: 0, Length: 16 << 10}, {Index: 0, Begin: 16 << 10, Length: 16 << 10}, {Index: 3, Begin: 0, Length: 100000 - 3*32<<10}}
	bad := peerwire.Request{Index: 9, Begin: 0, Length: 16 << 10}
	var msgs []peerwire.Message
	for i := range good {
		msgs = append(msgs, &good[i])
	}
	p.send(append(msgs, &bad)...)
	if pieces, rejects, _ := answers(t, p, append(good, bad)); pieces != 3 || rejects != 1 {
		t.Fatalf("%d pieces, %d rejects; want 3 and 1", pieces, rejects)
	}
	wantBytes := float64(2*16<<10 + 100000 - 3*32<<10)
	hash, name := tor.InfoHash().String(), tor.Name()

	deadline := time.Now().Add(5 * time.Second)
	for metricValue(t, reg, "bitorigin_seeder_announces_total", "result", "ok") < 1 ||
		metricValue(t, reg, "bitorigin_seeder_uploaded_bytes_total", "info_hash", hash) < wantBytes {
		if time.Now().After(deadline) {
			t.Fatal("announce or upload not counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"bitorigin_seeder_requests_served_total", nil, 3},
		{"bitorigin_seeder_requests_rejected_total", []string{"reason", "bad_index"}, 1},
		{"bitorigin_seeder_requests_rejected_total", []string{"reason", "choked"}, 0},
		{"bitorigin_seeder_uploaded_bytes_total", []string{"info_hash", hash, "name", name}, wantBytes},
		{"bitorigin_seeder_torrent_size_bytes", []string{"info_hash", hash, "name", name}, 100000},
		{"bitorigin_seeder_torrent_peers", []string{"info_hash", hash}, 1},
		{"bitorigin_seeder_torrent_pieces", []string{"info_hash", hash, "state", "verified"}, 4},
		{"bitorigin_seeder_torrent_pieces", []string{"info_hash", hash, "state", "failed"}, 0},
		{"bitorigin_seeder_peers", nil, 1},
		{"bitorigin_seeder_unchoked_peers", nil, 1},
		{"bitorigin_seeder_pending_connections", []string{"stage", "handshake"}, 0},
		{"bitorigin_seeder_connections_total", []string{"direction", "incoming"}, 1},
		{"bitorigin_seeder_announces_total", []string{"result", "ok"}, 1},
		{"bitorigin_seeder_announces_total", []string{"result", "failure"}, 1},
		{"bitorigin_seeder_announces_total", []string{"result", "error"}, 0},
	} {
		if got := metricValue(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The three blocks came in one or two runs of disk reads.
	if n := metricValue(t, reg, "bitorigin_seeder_disk_read_duration_seconds"); n < 1 || n > 3 {
		t.Errorf("%v disk reads timed for 3 blocks", n)
	}
	lint(t, reg)
}

func TestMetricsFollowPreparationHashingAndTorrentStates(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	testenv.WriteData(t, filepath.Join(data, "single.iso"), 100000, 1)
	testenv.WriteData(t, filepath.Join(data, "album", "a.bin"), 70000, 2)
	b := filepath.Join(data, "album", "b.bin")
	testenv.WriteData(t, b, 50001, 3)
	if err := os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(data, "broken")); err != nil {
		t.Fatal(err)
	}
	cfg := content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(root, "torrents"), PieceLength: 16 << 10}

	reg, _ := newMetricsForTest(t)
	cfg.Metrics = newContentMetricsForTest(t, reg)
	if first, _ := contenttest.Load(t, cfg); len(first) != 2 {
		t.Fatalf("loaded %d torrents, want 2", len(first))
	}
	pending := func(s string) float64 { return metricValue(t, reg, "bitorigin_seeder_pending_torrents", "state", s) }
	if pending("queued") != 0 || pending("verifying") != 0 || metricValue(t, reg, "bitorigin_seeder_skipped_torrents_total") != 1 {
		t.Fatal("after creating two torrents: want none queued or verifying, and the broken link skipped")
	}
	if got := metricValue(t, reg, "bitorigin_seeder_hashed_bytes_total"); got != 100000+70000+50001 {
		t.Errorf("created: %v bytes hashed, want all %d", got, 100000+70000+50001)
	}
	if got := metricValue(t, reg, "bitorigin_seeder_hash_remaining_bytes"); got != 0 {
		t.Errorf("%v bytes left to hash after loading", got)
	}
	lint(t, reg)

	// A changed byte in b.bin: its pieces are hashed again and one fails.
	f, err := os.OpenFile(b, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	f.ReadAt(one[:], 49999)
	f.WriteAt([]byte{one[0] ^ 0xff}, 49999)
	f.Close()
	later := time.Now().Add(time.Minute)
	os.Chtimes(b, later, later)
	reg, m := newMetricsForTest(t)
	cfg.Metrics = newContentMetricsForTest(t, reg)
	loaded, _ := contenttest.Load(t, cfg)
	var list []*content.Torrent
	for _, tor := range loaded {
		list = append(list, tor)
	}
	s, err := New(Config{Metrics: m}, list)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	served := func(s string) float64 { return metricValue(t, reg, "bitorigin_seeder_torrents", "state", s) }
	if served("complete") != 1 || served("partial") != 1 {
		t.Fatal("after corrupting one file: want 1 complete and 1 partial torrent")
	}
	hash := loaded["album"].InfoHash().String()
	if got := metricValue(t, reg, "bitorigin_seeder_torrent_pieces", "info_hash", hash, "state", "failed"); got != 1 {
		t.Errorf("album: %v failed pieces, want 1", got)
	}
	info := &loaded["album"].Meta.Info
	var want int64
	for i := 4; i < info.NumPieces(); i++ { // b.bin: bytes 70000 on, pieces 4 to 7
		want += info.PieceSize(i)
	}
	if got := metricValue(t, reg, "bitorigin_seeder_hashed_bytes_total"); got != float64(want) {
		t.Errorf("verified: %v bytes hashed, want b.bin's pieces, %d", got, want)
	}
}

// namedTorrent makes a complete single-file torrent whose name is name,
// taken as bytes: metainfo.Create refuses names that are not UTF-8, which
// torrents made by other tools may still carry.
func namedTorrent(t *testing.T, name string, size int) *content.Torrent {
	t.Helper()
	root := t.TempDir()
	testenv.WriteData(t, filepath.Join(root, "made.bin"), size, 2)
	meta, err := metainfo.Create(context.Background(), filepath.Join(root, "made.bin"), metainfo.CreateOptions{PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "made.bin"), filepath.Join(root, name)); err != nil {
		t.Fatal(err)
	}
	info := meta.Info
	info.Name = name
	if err := meta.SetInfo(info); err != nil {
		t.Fatal(err)
	}
	return content.NewTorrent(meta, "", root, content.FullBitfield(meta), 0)
}

// A torrent named in Latin-1 (not UTF-8) made MustNewConstMetric panic in
// the collector, and the scrape lost its series and every one after it.
func TestTorrentNotNamedInUTF8KeepsEveryTorrentsSeries(t *testing.T) {
	reg, m := newMetricsForTest(t)
	latin1 := namedTorrent(t, "caf\xe9.bin", 70000)
	plain, _ := contenttest.Complete(t, 100000, 32<<10)
	s, addr := serveTest(t, Config{Metrics: m}, latin1, plain)
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	connectPeer(t, addr, latin1, fastReserved())
	for _, c := range []struct {
		tor  *content.Torrent
		name string
		size float64
	}{{latin1, "caf\uFFFD.bin", 70000}, {plain, plain.Name(), 100000}} {
		hash := c.tor.InfoHash().String()
		if got := metricValue(t, reg, "bitorigin_seeder_torrent_size_bytes", "info_hash", hash, "name", c.name); got != c.size {
			t.Errorf("%q: size %v, want %v", c.name, got, c.size)
		}
		metricValue(t, reg, "bitorigin_seeder_uploaded_bytes_total", "info_hash", hash, "name", c.name)
		metricValue(t, reg, "bitorigin_seeder_torrent_peers", "info_hash", hash, "name", c.name)
		metricValue(t, reg, "bitorigin_seeder_torrent_pieces", "info_hash", hash, "name", c.name, "state", "verified")
	}
	lint(t, reg)
}
