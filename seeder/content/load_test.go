package content_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// verified returns the "torrent verified" log line of a torrent.
func verified(t *testing.T, logs, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^.*msg="torrent verified" name=` + regexp.QuoteMeta(name) + ` .*$`).FindString(logs)
	if m == "" {
		t.Fatalf("no verification logged for %s:\n%s", name, logs)
	}
	return m
}

func TestLoadCreatesTorrentsThenResumesAndRehashesOnlyChangedFiles(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	testenv.WriteData(t, filepath.Join(data, "single.iso"), 100000, 1)
	testenv.WriteData(t, filepath.Join(data, "album", "a.bin"), 70000, 2)
	testenv.WriteData(t, filepath.Join(data, "album", "b.bin"), 50001, 3)
	testenv.WriteData(t, filepath.Join(data, ".hidden"), 10, 4)
	cfg := content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(root, "torrents"), PieceLength: 16 << 10,
		Trackers: [][]string{{"http://127.0.0.1:1/announce"}}}

	first, logs := contenttest.Load(t, cfg)
	if len(first) != 2 || first["single.iso"] == nil || first["album"] == nil {
		t.Fatalf("loaded %v", first)
	}
	if n := strings.Count(logs, `msg="torrent created"`); n != 2 {
		t.Fatalf("%d torrents created, want 2:\n%s", n, logs)
	}
	for _, tor := range first {
		if !tor.Have.All() {
			t.Fatalf("%s: created torrent not complete", tor.Name())
		}
		if _, err := metainfo.Load(tor.Path); err != nil {
			t.Fatalf("created torrent: %v", err)
		}
	}

	// Nothing changed: nothing is hashed.
	second, logs := contenttest.Load(t, cfg)
	for _, name := range []string{"single.iso", "album"} {
		line := verified(t, logs, name)
		if !strings.Contains(line, "hashed_pieces=0") || !strings.Contains(line, "resumed=true") {
			t.Fatalf("unchanged data re-hashed: %s", line)
		}
		if second[name].InfoHash() != first[name].InfoHash() {
			t.Fatalf("%s: info hash changed between starts", name)
		}
	}

	// b.bin changes (one byte, same size, new time): only its pieces are
	// hashed again, and the one with the changed byte is bad.
	b := filepath.Join(data, "album", "b.bin")
	f, err := os.OpenFile(b, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0x55 ^ 0xff}, 49999)
	f.Close()
	later := time.Now().Add(time.Minute)
	os.Chtimes(b, later, later)
	third, logs := contenttest.Load(t, cfg)
	// b.bin spans bytes 70000..120000: pieces 4 to 7 of 16 KiB.
	line := verified(t, logs, "album")
	if !strings.Contains(line, "hashed_pieces=4") || !strings.Contains(line, "resumed=true") {
		t.Fatalf("want pieces 4-7 re-hashed: %s", line)
	}
	if !strings.Contains(verified(t, logs, "single.iso"), "hashed_pieces=0") {
		t.Fatal("the unchanged torrent was re-hashed")
	}
	have := third["album"].Have
	var bad []uint32
	for i := range have.Len() {
		if !have.Has(i) {
			bad = append(bad, i)
		}
	}
	// Byte 70000+49999 = 119999 is in piece 7; unless the random byte
	// happened to be 0xaa already, that piece is now bad.
	if len(bad) > 1 || (len(bad) == 1 && bad[0] != 7) {
		t.Fatalf("bad pieces %v, want [7]", bad)
	}

	// The bad piece stays bad on the next start without re-hashing.
	fourth, logs := contenttest.Load(t, cfg)
	if !strings.Contains(verified(t, logs, "album"), "hashed_pieces=0") || fourth["album"].Have.Count() != have.Count() {
		t.Fatalf("resume lost the verification result:\n%s", logs)
	}
}

func TestLoadKeepsAMatchingTorrentAndUpdatesItsTrackers(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	testenv.WriteData(t, filepath.Join(data, "x.bin"), 40000, 1)
	cfg := content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(root, "torrents"), PieceLength: 16 << 10,
		Trackers: [][]string{{"http://a.example/announce"}}}
	first, _ := contenttest.Load(t, cfg)
	cfg.Trackers = [][]string{{"http://b.example/announce"}, {"http://c.example/announce"}}
	cfg.PieceLength = 32 << 10 // ignored: the torrent exists
	second, _ := contenttest.Load(t, cfg)
	if second["x.bin"].InfoHash() != first["x.bin"].InfoHash() {
		t.Fatal("a new torrent was made although the existing one matches")
	}
	m, err := metainfo.Load(second["x.bin"].Path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(m.Trackers(), cfg.Trackers, slices.Equal) || m.InfoHash() != first["x.bin"].InfoHash() {
		t.Fatalf("trackers %v, info hash %s", m.Trackers(), m.InfoHash())
	}

	// The data grows: the torrent no longer matches and is made anew.
	testenv.WriteData(t, filepath.Join(data, "x.bin"), 40001, 1)
	third, _ := contenttest.Load(t, cfg)
	if third["x.bin"].InfoHash() == first["x.bin"].InfoHash() || third["x.bin"].Meta.Info.Length != 40001 {
		t.Fatal("stale torrent used for changed data")
	}
}

func TestLoadFailsWithNothingToServe(t *testing.T) {
	root := t.TempDir()
	if _, err := content.Load(context.Background(), content.LoadConfig{DataDir: root, TorrentDir: filepath.Join(root, ".t")}); err == nil {
		t.Fatal("empty data folder accepted")
	}
	if _, err := content.Load(context.Background(), content.LoadConfig{DataDir: filepath.Join(root, "nope"), TorrentDir: root}); err == nil {
		t.Fatal("missing data folder accepted")
	}
}

// A file replaced by a rename with the same size and modification time
// (rsync -t does this) is what the live watcher catches by its inode; the
// resume record must catch it at the next start too.
func TestLoadRehashesAFileReplacedWithItsOldSizeAndTime(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	path := filepath.Join(data, "single.iso")
	testenv.WriteData(t, path, 100000, 1)
	cfg := content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(root, "torrents"), PieceLength: 16 << 10,
		Trackers: [][]string{{"http://127.0.0.1:1/announce"}}}
	contenttest.Load(t, cfg)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(data, ".new")
	testenv.WriteData(t, tmp, 100000, 2) // other bytes, same size
	if err := os.Chtimes(tmp, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	second, logs := contenttest.Load(t, cfg)
	if line := verified(t, logs, "single.iso"); strings.Contains(line, "hashed_pieces=0") {
		t.Fatalf("a replaced file was trusted on size and time: %s", line)
	}
	if second["single.iso"].Have.Count() != 0 {
		t.Fatalf("%d pieces of other data taken as verified", second["single.iso"].Have.Count())
	}
}
