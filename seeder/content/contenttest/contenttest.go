// Package contenttest makes the torrents that tests of the seeder, its
// content and its catalogue serve: from data written for the test, loaded
// as package content loads a content folder.
package contenttest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
)

// LoadAll loads the content folder of cfg with a logger of its own,
// failing the test on an error, and returns the torrents, closed when the
// test ends, and the log.
func LoadAll(t testing.TB, cfg content.LoadConfig) ([]*content.Torrent, string) {
	t.Helper()
	var logs testenv.LogBuffer
	cfg.Logger = logs.Logger()
	ts, err := content.Load(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, logs.String())
	}
	for _, tor := range ts {
		t.Cleanup(func() { tor.Close() })
	}
	return ts, logs.String()
}

// Load is LoadAll with the torrents by name (a hybrid's v1-only twin,
// which has its name, replaces it).
func Load(t testing.TB, cfg content.LoadConfig) (map[string]*content.Torrent, string) {
	t.Helper()
	ts, logs := LoadAll(t, cfg)
	m := map[string]*content.Torrent{}
	for _, tor := range ts {
		m[tor.Name()] = tor
	}
	return m, logs
}

// Complete makes a complete single-file torrent of size bytes, file.bin,
// and returns it with its data.
func Complete(t testing.TB, size int, pieceLength int64) (*content.Torrent, []byte) {
	t.Helper()
	root := t.TempDir()
	data := testenv.WriteData(t, filepath.Join(root, "file.bin"), size, 1)
	meta, err := metainfo.Create(context.Background(), filepath.Join(root, "file.bin"), metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return content.NewTorrent(meta, "", root, content.FullBitfield(meta), 0), data
}

// V2Folder writes a folder whose files are not multiples of 16 KiB
// pieces, so that a v2 or hybrid layout pads after each of them, and
// returns the data folder: album (a.bin of 70000 bytes, b.bin of 5000,
// c.bin of 40000) and one.iso (50001 bytes).
func V2Folder(t testing.TB) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	testenv.WriteData(t, filepath.Join(data, "album", "a.bin"), 70000, 1) // 5 pieces, the last short
	testenv.WriteData(t, filepath.Join(data, "album", "b.bin"), 5000, 2)  // 1 piece
	testenv.WriteData(t, filepath.Join(data, "album", "c.bin"), 40000, 3) // 3 pieces
	testenv.WriteData(t, filepath.Join(data, "one.iso"), 50001, 4)
	return data
}
