package content_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

func TestLoadWritesWebSeedsIntoNewAndExistingTorrents(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	testenv.WriteData(t, filepath.Join(data, "x.bin"), 40000, 1)
	testenv.WriteData(t, filepath.Join(data, "album", "a.bin"), 30000, 2)
	cfg := content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(root, "torrents"), PieceLength: 16 << 10}
	first, _ := contenttest.Load(t, cfg)
	if len(first["x.bin"].Meta.WebSeeds) != 0 {
		t.Fatalf("web seeds %q without any configured", first["x.bin"].Meta.WebSeeds)
	}
	cfg.WebSeeds = []string{"http://origin.example/seed/"}
	second, _ := contenttest.Load(t, cfg)
	for _, name := range []string{"x.bin", "album"} {
		m, err := metainfo.Load(second[name].Path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.WebSeeds, cfg.WebSeeds) || m.InfoHash() != first[name].InfoHash() {
			t.Fatalf("%s: web seeds %q, info hash %s (was %s)", name, m.WebSeeds, m.InfoHash(), first[name].InfoHash())
		}
	}
	// Without the option, the torrent keeps its web seeds.
	cfg.WebSeeds = nil
	third, _ := contenttest.Load(t, cfg)
	if !slices.Equal(third["x.bin"].Meta.WebSeeds, []string{"http://origin.example/seed/"}) {
		t.Fatalf("web seeds %q", third["x.bin"].Meta.WebSeeds)
	}
}

func TestTorrentFileFindsOnlyItsFiles(t *testing.T) {
	root := t.TempDir()
	testenv.WriteData(t, filepath.Join(root, "album", "a.bin"), 3000, 1)
	testenv.WriteData(t, filepath.Join(root, "album", "sub", "b.bin"), 2000, 2)
	cfg := content.LoadConfig{DataDir: root, TorrentDir: filepath.Join(t.TempDir(), "t"), PieceLength: 16 << 10}
	tor, _ := contenttest.Load(t, cfg)
	album := tor["album"]
	for rel, want := range map[string]int64{"a.bin": 3000, "sub/b.bin": 2000, "": -1, "sub": -1, "b.bin": -1, "../album/a.bin": -1} {
		n, ok := album.File(rel)
		if (want < 0 && ok) || (want >= 0 && (!ok || n != want)) {
			t.Errorf("File(%q) = %d, %v; want %d", rel, n, ok, want)
		}
	}
	single, _ := contenttest.Complete(t, 1000, 16<<10)
	if n, ok := single.File(""); !ok || n != 1000 {
		t.Errorf("single-file File(\"\") = %d, %v", n, ok)
	}
	if _, ok := single.File("file.bin"); ok {
		t.Error("single-file File(name) found")
	}
}
