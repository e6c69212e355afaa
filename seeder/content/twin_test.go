package content_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// loadReleases loads the content and returns, by name, each entry's hybrid
// and its v1-only twin, failing unless every entry has both.
func loadReleases(t *testing.T, cfg content.LoadConfig) (hybrids, twins map[string]*content.Torrent, logs string) {
	t.Helper()
	ts, logs := contenttest.LoadAll(t, cfg)
	hybrids, twins = map[string]*content.Torrent{}, map[string]*content.Torrent{}
	for _, tor := range ts {
		if tor.TwinOf == (metainfo.InfoHash{}) {
			hybrids[tor.Name()] = tor
		} else {
			twins[tor.Name()] = tor
		}
	}
	for name, h := range hybrids {
		tw := twins[name]
		if h.Meta.Info.Version() != metainfo.Hybrid || tw == nil || tw.TwinOf != h.InfoHash() || !tw.Meta.Info.IsTwinOf(&h.Meta.Info) {
			t.Fatalf("%s: hybrid %v and twin %v\n%s", name, h.Meta.Info.Version(), tw, logs)
		}
	}
	return hybrids, twins, logs
}

func TestLoadPublishesAV1TwinOfEachHybridThatSurvivesARestart(t *testing.T) {
	data := contenttest.V2Folder(t)
	torrents := filepath.Join(filepath.Dir(data), "torrents")
	cfg := content.LoadConfig{DataDir: data, TorrentDir: torrents, PieceLength: 16 << 10, Version: metainfo.Hybrid, V1Twin: true,
		Trackers: [][]string{{"http://127.0.0.1:1/announce"}}}
	hybrids, twins, logs := loadReleases(t, cfg)
	if len(hybrids) != 2 || len(twins) != 2 {
		t.Fatalf("%d hybrids and %d twins, want 2 of each:\n%s", len(hybrids), len(twins), logs)
	}
	for name, tw := range twins {
		if want := filepath.Join(torrents, name+".v1.torrent"); tw.Path != want || !tw.Have.All() {
			t.Fatalf("%s: twin at %s with %d of %d pieces, want complete at %s", name, tw.Path, tw.Have.Count(), tw.NumPieces(), want)
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
	only, logs := contenttest.Load(t, cfg)
	for _, tor := range only {
		if tor.Meta.Info.Version() != metainfo.Hybrid || tor.TwinOf != (metainfo.InfoHash{}) {
			t.Fatalf("without V1Twin: %s %v:\n%s", tor.Name(), tor.Meta.Info.Version(), logs)
		}
	}
}
