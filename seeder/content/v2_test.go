package content_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

func TestLoadVerifiesV2AndHybridPiecesAgainstTheirHashes(t *testing.T) {
	for _, v := range []metainfo.Version{metainfo.V2, metainfo.Hybrid} {
		t.Run(v.String(), func(t *testing.T) {
			data := contenttest.V2Folder(t)
			torrents := filepath.Join(filepath.Dir(data), "torrents")
			cfg := content.LoadConfig{DataDir: data, TorrentDir: torrents, PieceLength: 16 << 10, Version: v,
				Trackers: [][]string{{"http://127.0.0.1:1/announce"}}}
			first, _ := contenttest.Load(t, cfg)
			for name, tor := range first {
				if tor.Meta.Info.Version() != v || !tor.Have.All() {
					t.Fatalf("%s: created a %v torrent with %d of %d pieces", name, tor.Meta.Info.Version(), tor.Have.Count(), tor.NumPieces())
				}
			}
			// One byte of c.bin's second piece (the album's eighth, piece 7: a.bin
			// has five, b.bin one), verified from scratch.
			path := filepath.Join(data, "album", "c.bin")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[16<<10+7] ^= 1
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg.ResumeDir = t.TempDir()
			again, logs := contenttest.Load(t, cfg)
			album, one := again["album"], again["one.iso"]
			if !one.Have.All() || album.Have.Count() != album.NumPieces()-1 || album.Have.Has(7) {
				t.Fatalf("album has %d of %d pieces (piece 7: %v), one.iso %d of %d:\n%s", album.Have.Count(), album.NumPieces(),
					album.Have.Has(7), one.Have.Count(), one.NumPieces(), logs)
			}
			if album.InfoHash() != first["album"].InfoHash() {
				t.Fatal("the existing torrent was not used")
			}
		})
	}
}
