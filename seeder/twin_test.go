package seeder

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

// loadReleases loads the content and returns, by name, each entry's hybrid
// and its v1-only twin, failing unless every entry has both.
func loadReleases(t *testing.T, cfg LoadConfig) (hybrids, twins map[string]*Torrent, logs string) {
	t.Helper()
	var buf testenv.LogBuffer
	cfg.Logger = buf.Logger()
	ts, err := Load(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, buf.String())
	}
	hybrids, twins = map[string]*Torrent{}, map[string]*Torrent{}
	for _, tor := range ts {
		t.Cleanup(func() { tor.Close() })
		if tor.TwinOf == (metainfo.InfoHash{}) {
			hybrids[tor.Name()] = tor
		} else {
			twins[tor.Name()] = tor
		}
	}
	for name, h := range hybrids {
		tw := twins[name]
		if h.Meta.Info.Version() != metainfo.Hybrid || tw == nil || tw.TwinOf != h.InfoHash() || !tw.Meta.Info.IsTwinOf(&h.Meta.Info) {
			t.Fatalf("%s: hybrid %v and twin %v\n%s", name, h.Meta.Info.Version(), tw, buf.String())
		}
	}
	return hybrids, twins, buf.String()
}

func TestLoadPublishesAV1TwinOfEachHybridThatSurvivesARestart(t *testing.T) {
	data := v2Content(t)
	torrents := filepath.Join(filepath.Dir(data), "torrents")
	cfg := LoadConfig{DataDir: data, TorrentDir: torrents, PieceLength: 16 << 10, Version: metainfo.Hybrid, V1Twin: true,
		Trackers: [][]string{{"http://127.0.0.1:1/announce"}}}
	hybrids, twins, logs := loadReleases(t, cfg)
	if len(hybrids) != 2 || len(twins) != 2 {
		t.Fatalf("%d hybrids and %d twins, want 2 of each:\n%s", len(hybrids), len(twins), logs)
	}
	for name, tw := range twins {
		if want := filepath.Join(torrents, name+".v1.torrent"); tw.Path != want || !tw.Have.All() {
			t.Fatalf("%s: twin at %s with %d of %d pieces, want complete at %s", name, tw.Path, tw.Have.Count(), tw.numPieces, want)
		}
		if got, err := metainfo.Load(tw.Path); err != nil || got.InfoHash() != tw.InfoHash() {
			t.Fatalf("%s: written twin %v", tw.Path, err)
		}
		if !strings.Contains(logs, "twin_of="+tw.TwinOf.String()) || !strings.Contains(logs, "magnet=\"magnet:?xt=urn:btih:"+tw.InfoHash().String()) {
			t.Fatalf("no log of the twin of %s with its magnet:\n%s", name, logs)
		}
	}
	if strings.Count(logs, `msg="torrent created"`) != 4 {
		t.Fatalf("want 4 torrents created:\n%s", logs)
	}

	// A restart: both .torrent files found, nothing hashed.
	hybrids2, twins2, logs := loadReleases(t, cfg)
	for name, tw := range twins {
		if twins2[name].InfoHash() != tw.InfoHash() || hybrids2[name].InfoHash() != hybrids[name].InfoHash() {
			t.Fatalf("%s: info hashes changed across a restart", name)
		}
	}
	if strings.Contains(logs, `msg="torrent created"`) || strings.Count(logs, "hashed_pieces=0 resumed=true") != 4 {
		t.Fatalf("restart re-created or re-hashed:\n%s", logs)
	}

	// The twin's .torrent lost: made again from the hybrid and the data,
	// the same torrent.
	if err := os.Remove(twins["album"].Path); err != nil {
		t.Fatal(err)
	}
	_, twins3, logs := loadReleases(t, cfg)
	if twins3["album"].InfoHash() != twins["album"].InfoHash() || strings.Count(logs, `msg="torrent created"`) != 1 {
		t.Fatalf("twin made again as %s, want %s:\n%s", twins3["album"].InfoHash(), twins["album"].InfoHash(), logs)
	}

	// The hybrid's .torrent lost: both made again, the same, rather than
	// the twin served alone.
	if err := os.Remove(hybrids["album"].Path); err != nil {
		t.Fatal(err)
	}
	hybrids4, twins4, logs := loadReleases(t, cfg)
	if hybrids4["album"].InfoHash() != hybrids["album"].InfoHash() || twins4["album"].InfoHash() != twins["album"].InfoHash() {
		t.Fatalf("after losing the hybrid's .torrent: hybrid %v, twin %v:\n%s", hybrids4["album"], twins4["album"], logs)
	}

	// Off: the hybrids alone.
	cfg.V1Twin = false
	only, logs := loadTest(t, cfg)
	for _, tor := range only {
		if tor.Meta.Info.Version() != metainfo.Hybrid || tor.TwinOf != (metainfo.InfoHash{}) {
			t.Fatalf("without V1Twin: %s %v:\n%s", tor.Name(), tor.Meta.Info.Version(), logs)
		}
	}
}

func TestATwinFollowsItsReleaseThroughTheWatchedFolder(t *testing.T) {
	data := v2Content(t)
	past := time.Now().Add(-time.Hour)
	for _, p := range []string{"album/a.bin", "album/b.bin", "album/c.bin", "one.iso"} {
		os.Chtimes(filepath.Join(data, p), past, past)
	}
	var logs testenv.LogBuffer
	cat, err := NewCatalogue(CatalogueConfig{
		Load: LoadConfig{DataDir: data, TorrentDir: filepath.Join(filepath.Dir(data), "torrents"), PieceLength: 16 << 10,
			Version: metainfo.Hybrid, V1Twin: true, Logger: logs.Logger()},
		Settle: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	cat.now = func() time.Time { return clock }
	ts, err := cat.Scan(context.Background())
	if err != nil || len(ts) != 4 {
		t.Fatalf("Scan: %d torrents, %v\n%s", len(ts), err, logs.String())
	}
	s, _ := serveTest(t, Config{Logger: logs.Logger()}, ts...)
	release := func() (hybrid, twin TorrentStatus) {
		for _, st := range s.Status() {
			switch {
			case st.Name != "album":
			case st.TwinOf != "":
				twin = st
			default:
				hybrid = st
			}
		}
		return hybrid, twin
	}
	hybrid, twin := release()
	if hybrid.InfoHash == "" || twin.TwinOf != hybrid.InfoHash || hybrid.V1Twin != twin.InfoHash {
		t.Fatalf("status: hybrid %+v, twin %+v", hybrid, twin)
	}

	// A file of the release grows: both are withdrawn, then both made
	// again once it settles.
	writeData(t, filepath.Join(data, "album", "b.bin"), 5001, 9)
	os.Chtimes(filepath.Join(data, "album", "b.bin"), clock, clock)
	if err := cat.step(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if h, tw := release(); h.InfoHash != "" || tw.InfoHash != "" {
		t.Fatalf("changed release still served: %+v %+v", h, tw)
	}
	clock = clock.Add(2 * time.Second)
	if err := cat.step(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	h2, tw2 := release()
	if h2.InfoHash == "" || tw2.TwinOf != h2.InfoHash || h2.InfoHash == hybrid.InfoHash || tw2.InfoHash == twin.InfoHash {
		t.Fatalf("after the change: hybrid %+v, twin %+v\n%s", h2, tw2, logs.String())
	}
	if tw2.Size != 70000+5001+40000 {
		t.Fatalf("new twin of %d bytes", tw2.Size)
	}

	// Removed: both withdrawn.
	if err := os.RemoveAll(filepath.Join(data, "album")); err != nil {
		t.Fatal(err)
	}
	if err := cat.step(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Status()); got != 2 || slices.ContainsFunc(s.Status(), func(st TorrentStatus) bool { return st.Name == "album" }) {
		t.Fatalf("after removal: %+v", s.Status())
	}
}
