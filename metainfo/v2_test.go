package metainfo

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// v2Data writes a folder whose files are not multiples of the piece length,
// plus an empty file and names that sort differently by path and by
// component ("a.b" and "a/x"), and a single file.
func v2Data(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	writeTree(t, filepath.Join(root, "set"), map[string]int64{
		"a.b":       20000,
		"a/x":       100,
		"big.bin":   200001,
		"empty":     0,
		"one-piece": 32768,
	})
	writeTree(t, root, map[string]int64{"single.iso": 100001})
	return root
}

func TestCreatedV2AndHybridTorrentsRoundTripAndVerify(t *testing.T) {
	root := v2Data(t)
	for _, v := range []Version{V2, Hybrid} {
		for _, target := range []string{"set", "single.iso"} {
			t.Run(v.String()+" "+target, func(t *testing.T) {
				tor, err := Create(context.Background(), filepath.Join(root, target), CreateOptions{
					Version: v, PieceLength: 32768, Trackers: [][]string{{"http://a.example/announce"}}})
				if err != nil {
					t.Fatal(err)
				}
				if got := tor.Info.Version(); got != v {
					t.Fatalf("Version() = %v, want %v", got, v)
				}
				v2, ok := tor.InfoHashV2()
				if !ok || v2 != InfoHashV2(sha256.Sum256(tor.InfoBytes())) {
					t.Fatalf("InfoHashV2() = %s, %v; want the SHA-256 of the info dictionary", v2, ok)
				}
				v1, ok := tor.InfoHashV1()
				switch {
				case v == Hybrid && (!ok || v1 != InfoHash(sha1.Sum(tor.InfoBytes())) || tor.InfoHash() != v1):
					t.Fatalf("hybrid: InfoHashV1() = %s, %v, InfoHash() = %s", v1, ok, tor.InfoHash())
				case v == V2 && (ok || tor.InfoHash() != v2.Truncate()):
					t.Fatalf("v2: InfoHashV1() = %s, %v, InfoHash() = %s, want the truncated v2 hash", v1, ok, tor.InfoHash())
				}
				data, err := tor.Encode()
				if err != nil {
					t.Fatal(err)
				}
				back, err := Parse(data)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(back.Info, tor.Info) || !reflect.DeepEqual(back.PieceLayers, tor.PieceLayers) {
					t.Fatalf("parse changed the torrent:\n%+v\n%+v", tor.Info, back.Info)
				}
				if back.InfoHash() != tor.InfoHash() {
					t.Fatal("parse changed the info hash")
				}
				again, err := back.Encode()
				if err != nil || string(again) != string(data) {
					t.Fatalf("re-encoding changed the file (err %v)", err)
				}
				res, err := Verify(context.Background(), &back.Info, root, VerifyOptions{PieceLayers: back.PieceLayers})
				if err != nil || !res.Complete() {
					t.Fatalf("Verify: err %v, result %+v", err, res)
				}
			})
		}
	}
}

func TestCreateV2PutsFilesInTreeOrderAndHybridPadsEachToAPiece(t *testing.T) {
	root := v2Data(t)
	const pl = 32768
	tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: Hybrid, PieceLength: pl})
	if err != nil {
		t.Fatal(err)
	}
	var tree []string
	for _, f := range tor.Info.FileTree {
		tree = append(tree, strings.Join(f.Path, "/"))
	}
	// Component order puts the folder a before a.b; mktorrent's order of
	// joined paths would put a.b first.
	if want := []string{"a/x", "a.b", "big.bin", "empty", "one-piece"}; !slices.Equal(tree, want) {
		t.Fatalf("file tree order %q, want %q", tree, want)
	}
	type entry struct {
		path   string
		length int64
		pad    bool
	}
	var got []entry
	for _, f := range tor.Info.Files {
		got = append(got, entry{strings.Join(f.Path, "/"), f.Length, f.IsPadding()})
	}
	want := []entry{
		{"a/x", 100, false}, {".pad/32668", 32668, true},
		{"a.b", 20000, false}, {".pad/12768", 12768, true},
		{"big.bin", 200001, false}, {"empty", 0, false}, {".pad/29375", 29375, true},
		{"one-piece", 32768, false}, // no padding after the last file
	}
	if !slices.Equal(got, want) {
		t.Fatalf("v1 files\n%v\nwant\n%v", got, want)
	}
	for _, f := range tor.Info.FileTree {
		if f.Offset%pl != 0 {
			t.Fatalf("%q starts at %d, not on a piece", f.Path, f.Offset)
		}
	}
	// 1 + 1 + 7 + 0 + 1 pieces.
	if n := tor.Info.NumPieces(); n != 10 || tor.Info.TotalLength() != 9*pl+pl {
		t.Fatalf("%d pieces, %d bytes", n, tor.Info.TotalLength())
	}
	if len(tor.PieceLayers) != 1 || len(tor.PieceLayers[tor.Info.FileTree[2].PiecesRoot]) != 7 {
		t.Fatalf("piece layers %v: want one of 7 hashes, for big.bin", tor.PieceLayers)
	}
}

func TestV2OnlyTorrentLaysOutItsPiecesLikeAHybrid(t *testing.T) {
	root := v2Data(t)
	opts := CreateOptions{PieceLength: 32768}
	opts.Version = Hybrid
	hybrid, err := Create(context.Background(), filepath.Join(root, "set"), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Version = V2
	v2, err := Create(context.Background(), filepath.Join(root, "set"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Info.Files != nil || v2.Info.Pieces != nil || v2.Info.Length != 0 {
		t.Fatalf("a v2-only torrent has v1 fields: %+v", v2.Info)
	}
	if !reflect.DeepEqual(v2.Info.FileList(), hybrid.Info.FileList()) || !reflect.DeepEqual(v2.Info.FileTree, hybrid.Info.FileTree) ||
		v2.Info.NumPieces() != hybrid.Info.NumPieces() || v2.Info.TotalLength() != hybrid.Info.TotalLength() {
		t.Fatalf("layouts differ:\n%+v\n%+v", v2.Info.FileList(), hybrid.Info.FileList())
	}
	if !reflect.DeepEqual(v2.PieceLayers, hybrid.PieceLayers) {
		t.Fatal("piece layers differ")
	}
	if v2.Info.PieceHash(0) != [HashSize]byte{} {
		t.Fatal("a v2-only torrent has a SHA-1 piece hash")
	}
}

func TestVerifyFindsBadV2Pieces(t *testing.T) {
	root := v2Data(t)
	for _, v := range []Version{V2, Hybrid} {
		t.Run(v.String(), func(t *testing.T) {
			tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: v, PieceLength: 32768})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "set", "big.bin")
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.WriteFile(path, orig, 0o644) })
			bad := slices.Clone(orig)
			bad[3*32768+5] ^= 1 // big.bin's fourth piece, the torrent's sixth
			bad[len(bad)-1] ^= 1
			if err := os.WriteFile(path, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Verify(context.Background(), &tor.Info, root, VerifyOptions{PieceLayers: tor.PieceLayers})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Mismatched, []int{5, 8}) || res.Inconsistent != nil || int(res.Have.Count()) != tor.Info.NumPieces()-2 {
				t.Fatalf("mismatched %v inconsistent %v have %d", res.Mismatched, res.Inconsistent, res.Have.Count())
			}
			for _, f := range res.Files {
				if f.File.IsPadding() {
					continue
				}
				if want := strings.Join(f.File.Path, "/") == "big.bin"; (f.Status == FileCorrupt) != want {
					t.Fatalf("%q: %v", f.File.Path, f.Status)
				}
			}
		})
	}
}

func TestVerifyReportsAHybridWhoseV1AndV2HashesDisagree(t *testing.T) {
	root := v2Data(t)
	tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: Hybrid, PieceLength: 32768})
	if err != nil {
		t.Fatal(err)
	}
	info := tor.Info
	info.Pieces = slices.Clone(info.Pieces)
	info.Pieces[2*HashSize] ^= 1 // piece 2's SHA-1; its v2 hash stays right
	res, err := Verify(context.Background(), &info, root, VerifyOptions{PieceLayers: tor.PieceLayers})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Inconsistent, []int{2}) || !slices.Equal(res.Mismatched, []int{2}) {
		t.Fatalf("inconsistent %v mismatched %v, want [2] and [2]", res.Inconsistent, res.Mismatched)
	}
}

func TestVerifyRefusesV2PiecesWithoutTheirLayers(t *testing.T) {
	root := v2Data(t)
	tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: V2, PieceLength: 32768})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(context.Background(), &tor.Info, root, VerifyOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing for") {
		t.Fatalf("err = %v, want the missing piece layer", err)
	}
}
