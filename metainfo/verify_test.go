package metainfo

import (
	"context"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// verifyFixture creates a torrent of three files in seven 16 KiB pieces,
// two of them shared between files:
//
//	a: bytes      0-39999, pieces 0-2 (piece 2 shared with b)
//	b: bytes  40000-49999, pieces 2-3
//	c: bytes 50000-99999, pieces 3-6 (piece 3 shared with b)
func verifyFixture(t *testing.T) (root string, info *Info) {
	t.Helper()
	root = t.TempDir()
	writeTree(t, filepath.Join(root, "set"), map[string]int64{"a": 40000, "b": 10000, "c": 50000})
	tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{PieceLength: 16384})
	if err != nil {
		t.Fatal(err)
	}
	return root, &tor.Info
}

func TestVerifyFindsEveryPieceOfIntactData(t *testing.T) {
	root, info := verifyFixture(t)
	var last int64
	res, err := Verify(context.Background(), info, root, VerifyOptions{Progress: func(done, _ int64) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete() || int(res.Have.Count()) != info.NumPieces() || len(res.Mismatched) != 0 {
		t.Fatalf("have %d of %d, mismatched %v", res.Have.Count(), info.NumPieces(), res.Mismatched)
	}
	if last != info.TotalLength() {
		t.Fatalf("progress ended at %d, want %d", last, info.TotalLength())
	}
	for _, f := range res.Files {
		if f.Status != FileOK || f.BadPieces != 0 || f.Size != f.File.Length {
			t.Fatalf("file %+v", f)
		}
	}
}

func TestVerifyReportsDamagedFiles(t *testing.T) {
	type want struct {
		status    [3]FileStatus // a, b, c
		have      []uint32
		mismatch  []int
		badPieces [3]int
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   want
	}{
		{"flipped byte in a", func(t *testing.T, dir string) { flipByte(t, filepath.Join(dir, "a"), 20000) },
			want{[3]FileStatus{FileCorrupt, FileOK, FileOK}, []uint32{0, 2, 3, 4, 5, 6}, []int{1}, [3]int{1, 0, 0}}},
		{"b missing", func(t *testing.T, dir string) { remove(t, filepath.Join(dir, "b")) },
			want{[3]FileStatus{FileOK, FileMissing, FileOK}, []uint32{0, 1, 4, 5, 6}, nil, [3]int{1, 2, 1}}},
		{"c short", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "c"), 30000) },
			want{[3]FileStatus{FileOK, FileOK, FileShort}, []uint32{0, 1, 2, 3}, nil, [3]int{0, 0, 3}}},
		{"c long", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, "c"), 60000) },
			want{[3]FileStatus{FileOK, FileOK, FileLong}, []uint32{0, 1, 2, 3, 4, 5, 6}, nil, [3]int{0, 0, 0}}},
		{"a is a folder", func(t *testing.T, dir string) {
			remove(t, filepath.Join(dir, "a"))
			if err := os.Mkdir(filepath.Join(dir, "a"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want{[3]FileStatus{FileUnreadable, FileOK, FileOK}, []uint32{3, 4, 5, 6}, nil, [3]int{3, 1, 0}}},
		{"b swapped with wrong data of the same size", func(t *testing.T, dir string) {
			testenv.WriteRandomFile(t, filepath.Join(dir, "b"), 10000, 99)
		}, want{[3]FileStatus{FileCorrupt, FileCorrupt, FileCorrupt}, []uint32{0, 1, 4, 5, 6}, []int{2, 3}, [3]int{1, 2, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, info := verifyFixture(t)
			tt.damage(t, filepath.Join(root, "set"))
			res, err := Verify(context.Background(), info, root, VerifyOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.Complete() != (len(tt.want.have) == info.NumPieces()) {
				t.Fatalf("Complete() = %v", res.Complete())
			}
			var have []uint32
			for i := range uint32(info.NumPieces()) {
				if res.Have.Has(i) {
					have = append(have, i)
				}
			}
			if !slices.Equal(have, tt.want.have) || !slices.Equal(res.Mismatched, tt.want.mismatch) {
				t.Fatalf("have %v mismatched %v, want %v and %v", have, res.Mismatched, tt.want.have, tt.want.mismatch)
			}
			for i, f := range res.Files {
				if f.Status != tt.want.status[i] || f.BadPieces != tt.want.badPieces[i] {
					t.Errorf("file %s: %s with %d bad pieces, want %s with %d", f.Path, f.Status, f.BadPieces, tt.want.status[i], tt.want.badPieces[i])
				}
			}
		})
	}
}

func TestVerifyMissingFileNamesTheCause(t *testing.T) {
	root, info := verifyFixture(t)
	remove(t, filepath.Join(root, "set", "c"))
	res, err := Verify(context.Background(), info, root, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Files[2]
	if c.Status != FileMissing || !errors.Is(c.Err, os.ErrNotExist) || c.Size != -1 {
		t.Fatalf("file c: %+v", c)
	}
}

func TestVerifyTreatsPaddingFilesAsZeros(t *testing.T) {
	// Laid out as libtorrent pads: a, then zeros up to the piece boundary,
	// then b on its own piece.
	root := t.TempDir()
	testenv.WriteRandomFile(t, filepath.Join(root, "p", "a"), 10000, 1)
	testenv.WriteRandomFile(t, filepath.Join(root, "p", "b"), 20000, 2)
	a, _ := os.ReadFile(filepath.Join(root, "p", "a"))
	b, _ := os.ReadFile(filepath.Join(root, "p", "b"))
	data := append(append(a, make([]byte, 16384-10000)...), b...)
	var pieces []byte
	for off := 0; off < len(data); off += 16384 {
		sum := sha1.Sum(data[off:min(off+16384, len(data))])
		pieces = append(pieces, sum[:]...)
	}
	tor := &Torrent{}
	err := tor.SetInfo(Info{Name: "p", PieceLength: 16384, Pieces: pieces, Files: []File{
		{Path: []string{"a"}, Length: 10000},
		{Path: []string{".pad", "6384"}, Length: 6384, Attr: "p"},
		{Path: []string{"b"}, Length: 20000},
	}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), &tor.Info, root, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete() {
		t.Fatalf("padding not read as zeros: %+v", res.Files)
	}
	if res.Files[1].Path != "" {
		t.Fatalf("padding file looked for at %q", res.Files[1].Path)
	}
}

func TestVerifyRefusesAMissingDataFolder(t *testing.T) {
	_, info := verifyFixture(t)
	if _, err := Verify(context.Background(), info, filepath.Join(t.TempDir(), "nope"), VerifyOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRejectsAnInvalidInfoInsteadOfPanicking(t *testing.T) {
	root, info := verifyFixture(t)
	bad := *info
	bad.PieceLength = 0
	if _, err := Verify(context.Background(), &bad, root, VerifyOptions{}); err == nil {
		t.Fatal("Verify accepted piece length 0")
	}
	bad = *info
	bad.Pieces = bad.Pieces[:20]
	if _, err := Verify(context.Background(), &bad, root, VerifyOptions{}); err == nil {
		t.Fatal("Verify accepted too few piece hashes")
	}
}
