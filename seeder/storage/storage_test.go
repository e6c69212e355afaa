package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bitorigin/bitorigin/metainfo"
)

// layout writes files of the given sizes (in folder "t" under a temp root)
// filled with their offset in the torrent's data, and returns the Info and
// the whole data as one slice.
func layout(t testing.TB, sizes []int64, padding map[int]bool) (*metainfo.Info, string, []byte) {
	t.Helper()
	root := t.TempDir()
	info := &metainfo.Info{Name: "t", PieceLength: 16 << 10}
	var all []byte
	var off int64
	for i, n := range sizes {
		f := metainfo.File{Path: []string{string(rune('a' + i))}, Length: n, Offset: off}
		data := make([]byte, n)
		if padding[i] {
			f.Attr = "p"
			f.Path = []string{".pad", "x"}
		} else {
			for j := range data {
				data[j] = byte((off + int64(j)) * 7 >> 3)
			}
			p := info.FilePath(root, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, data...)
		info.Files = append(info.Files, f)
		off += n
	}
	return info, root, all
}

func TestReadAtSpansFileBoundariesPaddingAndEmptyFiles(t *testing.T) {
	info, root, all := layout(t, []int64{1000, 0, 5000, 24, 0, 1, 70000}, map[int]bool{3: true})
	s := New(info, Config{Root: root, MaxOpen: 2})
	defer s.Close()
	if s.Size() != int64(len(all)) {
		t.Fatalf("Size %d, want %d", s.Size(), len(all))
	}
	for _, c := range []struct{ off, n int64 }{
		{0, 1000}, {0, 1001}, {999, 2}, {990, 6100}, {5990, 40}, {6024, 1}, {0, int64(len(all))},
		{int64(len(all)) - 1, 1}, {3, 0}, {6000, 30000},
	} {
		got := make([]byte, c.n)
		n, err := s.ReadAt(got, c.off)
		if err != nil || n != int(c.n) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", c.n, c.off, n, err)
		}
		if !bytes.Equal(got, all[c.off:c.off+c.n]) {
			t.Fatalf("ReadAt(%d, %d): wrong bytes", c.n, c.off)
		}
	}
	if got := s.files.openCount(); got > 2 {
		t.Fatalf("%d files open, MaxOpen is 2", got)
	}
}

func TestReadAtPastTheEndIsEOF(t *testing.T) {
	info, root, all := layout(t, []int64{100, 50}, nil)
	s := New(info, Config{Root: root})
	defer s.Close()
	buf := make([]byte, 10)
	if n, err := s.ReadAt(buf, int64(len(all))-5); !errors.Is(err, io.EOF) || n != 5 {
		t.Fatalf("read across the end: %d, %v; want 5, EOF", n, err)
	}
	if _, err := s.ReadAt(buf, int64(len(all))+1); err == nil {
		t.Fatal("read beyond the end succeeded")
	}
	if _, err := s.ReadAt(buf, -1); err == nil {
		t.Fatal("read at a negative offset succeeded")
	}
}

func TestReadAtReportsMissingAndShortFiles(t *testing.T) {
	info, root, _ := layout(t, []int64{100, 200, 300}, nil)
	if err := os.Truncate(info.FilePath(root, info.Files[1]), 150); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(info.FilePath(root, info.Files[2])); err != nil {
		t.Fatal(err)
	}
	s := New(info, Config{Root: root})
	defer s.Close()
	buf := make([]byte, 100)
	if _, err := s.ReadAt(buf, 0); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	if _, err := s.ReadAt(buf, 160); !errors.Is(err, ErrShort) {
		t.Fatalf("short file: %v, want ErrShort", err)
	}
	if _, err := s.ReadAt(buf, 350); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v, want not exist", err)
	}
}

func TestConcurrentReadsKeepTheCacheBounded(t *testing.T) {
	sizes := make([]int64, 20)
	for i := range sizes {
		sizes[i] = 3000 + int64(i)
	}
	info, root, all := layout(t, sizes, nil)
	s := New(info, Config{Root: root, MaxOpen: 3})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			buf := make([]byte, 4000)
			for i := range 200 {
				off := int64((g*7919 + i*104729) % (len(all) - len(buf)))
				if _, err := s.ReadAt(buf, off); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(buf, all[off:off+int64(len(buf))]) {
					t.Errorf("wrong bytes at %d", off)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := s.files.openCount(); got > 3 {
		t.Fatalf("%d files open after the reads, MaxOpen is 3", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := s.files.openCount(); got != 0 {
		t.Fatalf("%d files open after Close", got)
	}
}

func TestStatReportsSizeAndMissingFiles(t *testing.T) {
	info, root, _ := layout(t, []int64{10, 20}, nil)
	os.Remove(info.FilePath(root, info.Files[1]))
	st := Stat(info, root)
	if len(st) != 2 || st[0].Size != 10 || st[0].ModTime == 0 || st[1].Err == nil || st[1].Size != -1 {
		t.Fatalf("Stat: %+v", st)
	}
}

func BenchmarkReadAt16KiB(b *testing.B) {
	info, root, _ := layout(b, []int64{1 << 20}, nil)
	s := New(info, Config{Root: root})
	defer s.Close()
	buf := make([]byte, 16<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	var off int64
	for b.Loop() {
		if _, err := s.ReadAt(buf, off); err != nil {
			b.Fatal(err)
		}
		off = (off + int64(len(buf))) % (1 << 20)
	}
}

// TestAV2LayoutReadsZerosForPaddingWithoutFiles reads a v2-only torrent,
// whose pieces map onto its files with padding before each file that
// would not start a piece and after the last: the padding reads as zeros,
// and no file for it exists or is opened.
func TestAV2LayoutReadsZerosForPaddingWithoutFiles(t *testing.T) {
	root := t.TempDir()
	var want []byte
	for i, n := range []int64{20000, 5, 16384, 1} {
		b := bytes.Repeat([]byte{byte(i + 1)}, int(n))
		p := filepath.Join(root, "t", string(rune('a'+i)))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if r := int64(len(want)) % (16 << 10); r != 0 {
			want = append(want, make([]byte, 16<<10-r)...)
		}
		want = append(want, b...)
	}
	// and up to a full last piece, as libtorrent lays out v2-only torrents
	want = append(want, make([]byte, 16<<10-len(want)%(16<<10))...)
	meta, err := metainfo.Create(context.Background(), filepath.Join(root, "t"), metainfo.CreateOptions{Version: metainfo.V2, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s := New(&meta.Info, Config{Root: root})
	defer s.Close()
	if s.Size() != int64(len(want)) {
		t.Fatalf("Size %d, want %d", s.Size(), len(want))
	}
	got := make([]byte, len(want))
	if _, err := s.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadAt: %v; data equal: %v", err, bytes.Equal(got, want))
	}
	if _, err := os.Stat(filepath.Join(root, "t", ".pad")); !os.IsNotExist(err) {
		t.Fatalf("a padding folder appeared: %v", err)
	}
	if n := s.files.openCount(); n != 4 {
		t.Fatalf("%d files open, want the 4 data files", n)
	}
}
