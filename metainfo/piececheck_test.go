package metainfo

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// layoutData reads a torrent's data as FileList lays it out, padding as
// zeros.
func layoutData(t *testing.T, info *Info, root string) []byte {
	t.Helper()
	var all []byte
	for _, f := range info.FileList() {
		if f.IsPadding() {
			all = append(all, make([]byte, f.Length)...)
			continue
		}
		b, err := os.ReadFile(info.FilePath(root, f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestPieceCheckerChecksEveryVersionsHashes(t *testing.T) {
	root := v2Data(t)
	for _, v := range []Version{V1, V2, Hybrid} {
		for _, target := range []string{"set", "single.iso"} {
			t.Run(v.String()+" "+target, func(t *testing.T) {
				tor, err := Create(context.Background(), filepath.Join(root, target), CreateOptions{Version: v, PieceLength: 32768})
				if err != nil {
					t.Fatal(err)
				}
				c, err := NewPieceChecker(&tor.Info, tor.PieceLayers)
				if err != nil {
					t.Fatal(err)
				}
				data := layoutData(t, &tor.Info, root)
				pl := int(tor.Info.PieceLength)
				for i := range tor.Info.NumPieces() {
					piece := data[i*pl : min(len(data), (i+1)*pl)]
					if !c.Check(i, piece) {
						t.Fatalf("piece %d of %d fails", i, tor.Info.NumPieces())
					}
					bad := append([]byte(nil), piece...)
					bad[0] ^= 1
					if c.Check(i, bad) {
						t.Fatalf("piece %d with its first byte flipped passes", i)
					}
					if c.Check(i, piece[:len(piece)-1]) {
						t.Fatalf("piece %d one byte short passes", i)
					}
				}
				if c.Check(-1, data[:pl]) || c.Check(tor.Info.NumPieces(), data[:pl]) {
					t.Fatal("a piece out of range passes")
				}
			})
		}
	}
}

// TestPieceCheckerChecksBothHashesOfAHybrid gives a hybrid piece that only
// one version's hash accepts: the SHA-1 covers the padding after a file,
// the v2 hash only the file's bytes.
func TestPieceCheckerChecksBothHashesOfAHybrid(t *testing.T) {
	root := v2Data(t)
	tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: Hybrid, PieceLength: 32768})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewPieceChecker(&tor.Info, tor.PieceLayers)
	if err != nil {
		t.Fatal(err)
	}
	data := layoutData(t, &tor.Info, root)
	// "a.b" is 20,000 bytes: piece 0 ends in 12,768 bytes of padding.
	piece := append([]byte(nil), data[:32768]...)
	piece[len(piece)-1] = 1
	if c.Check(0, piece) {
		t.Fatal("a hybrid piece with non-zero padding passes")
	}
	v2only := *tor
	v2only.Info.Files, v2only.Info.Pieces, v2only.Info.Length = nil, nil, 0
	c2, err := NewPieceChecker(&v2only.Info, tor.PieceLayers)
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Check(0, piece) {
		t.Fatal("the v2 hash covers the padding")
	}
}

func TestPieceCheckerRefusesWrongPieceLayers(t *testing.T) {
	root := v2Data(t)
	tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: V2, PieceLength: 32768})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPieceChecker(&tor.Info, nil); err == nil {
		t.Fatal("no piece layers for a file of several pieces: no error")
	}
}

// TestAV2OnlyTorrentEndsInAFullPieceAsLibtorrentLaysItOut: libtorrent 2
// pads the last file of a v2-only torrent to a piece boundary and asks
// for the whole first block of a last piece shorter than that, so the
// layout a seeder serves must end in padding too (a hybrid keeps the v1
// file list it was made with).
func TestAV2OnlyTorrentEndsInAFullPieceAsLibtorrentLaysItOut(t *testing.T) {
	root := v2Data(t)
	tor, err := Create(context.Background(), filepath.Join(root, "single.iso"), CreateOptions{Version: V2, PieceLength: 32768})
	if err != nil {
		t.Fatal(err)
	}
	in := &tor.Info
	files := in.FileList()
	if len(files) != 2 || files[0].Length != 100001 || len(files[0].Path) != 0 || !files[1].IsPadding() ||
		files[1].Offset != 100001 || files[1].Length != 4*32768-100001 {
		t.Fatalf("file list %+v", files)
	}
	if in.TotalLength() != 4*32768 || in.PieceSize(3) != 32768 || in.NumPieces() != 4 {
		t.Fatalf("total %d, last piece %d, pieces %d", in.TotalLength(), in.PieceSize(3), in.NumPieces())
	}
	res, err := Verify(context.Background(), in, root, VerifyOptions{PieceLayers: tor.PieceLayers})
	if err != nil || !res.Complete() {
		t.Fatalf("Verify: %v, %+v", err, res)
	}
}
