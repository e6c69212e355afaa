package metainfo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/internal/version"
)

// writeTree writes files of the given sizes (path -> size) below root with
// contents fixed by their sizes and order.
func writeTree(t *testing.T, root string, files map[string]int64) {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		testenv.WriteRandomFile(t, filepath.Join(root, filepath.FromSlash(name)), files[name], uint64(i)+1)
	}
}

// concatHashes hashes the concatenation of files in pieces, the slow
// obvious way, to check Create against.
func concatHashes(t *testing.T, paths []string, pieceLength int) []byte {
	t.Helper()
	var all []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	var out []byte
	for len(all) > 0 {
		n := min(pieceLength, len(all))
		sum := sha1.Sum(all[:n])
		out = append(out, sum[:]...)
		all = all[n:]
	}
	return out
}

func TestCreateHashesAFolderInPathOrderAcrossPieceBoundaries(t *testing.T) {
	root := filepath.Join(t.TempDir(), "release")
	writeTree(t, root, map[string]int64{
		"b.bin":        70000,
		"a/z.bin":      100,
		"a.b":          16384,
		"a/y/deep.bin": 33000,
		"empty":        0,
	})
	tor, err := Create(context.Background(), root, CreateOptions{PieceLength: 16384, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Joined-path order, as mktorrent's: "a.b" before "a/y" ('.' < '/').
	wantPaths := [][]string{{"a.b"}, {"a", "y", "deep.bin"}, {"a", "z.bin"}, {"b.bin"}, {"empty"}}
	var gotPaths [][]string
	var disk []string
	for _, f := range tor.Info.Files {
		gotPaths = append(gotPaths, f.Path)
		disk = append(disk, tor.Info.FilePath(filepath.Dir(root), f))
	}
	if !reflect.DeepEqual(gotPaths, wantPaths) {
		t.Fatalf("file order %q, want %q", gotPaths, wantPaths)
	}
	if want := concatHashes(t, disk, 16384); !bytes.Equal(tor.Info.Pieces, want) {
		t.Fatal("piece hashes differ from hashing the concatenated files")
	}
	if tor.Info.Name != "release" || tor.Info.TotalLength() != 119484 {
		t.Fatalf("name %q, total %d", tor.Info.Name, tor.Info.TotalLength())
	}
}

func TestCreateThenParseRoundTrip(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteRandomFile(t, filepath.Join(dir, "single.iso"), 1<<20+12345, 7)
	writeTree(t, filepath.Join(dir, "multi"), map[string]int64{"x/1": 300000, "x/2": 5, "y": 400000})
	for _, name := range []string{"single.iso", "multi"} {
		t.Run(name, func(t *testing.T) {
			opts := CreateOptions{
				Trackers:     [][]string{{"http://a.example/announce", "http://b.example/announce"}, {"udp://c.example:6969"}},
				WebSeeds:     []string{"http://ws.example/files/"},
				Private:      true,
				Source:       "origin",
				Comment:      "round trip",
				CreationDate: time.Unix(1700000000, 0),
			}
			tor, err := Create(context.Background(), filepath.Join(dir, name), opts)
			if err != nil {
				t.Fatal(err)
			}
			data, err := tor.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if back.InfoHash() != tor.InfoHash() {
				t.Fatalf("parsed hash %s, created %s", back.InfoHash(), tor.InfoHash())
			}
			if !reflect.DeepEqual(back.Info, tor.Info) {
				t.Fatalf("parsed info %+v\ncreated %+v", back.Info, tor.Info)
			}
			if again, _ := back.Encode(); !bytes.Equal(again, data) {
				t.Fatal("re-encoding the parsed torrent changed its bytes")
			}
			if !reflect.DeepEqual(back.Trackers(), opts.Trackers) || back.Announce != "http://a.example/announce" {
				t.Fatalf("trackers %q announce %q", back.Trackers(), back.Announce)
			}
			if !slices.Equal(back.WebSeeds, opts.WebSeeds) || !back.Info.Private || back.Info.Source != "origin" ||
				back.Comment != "round trip" || !back.CreationDate.Equal(opts.CreationDate) {
				t.Fatalf("options lost: %+v", back)
			}
			if want := version.Name + "/" + version.Version; back.CreatedBy != want {
				t.Fatalf("created by %q, want %q", back.CreatedBy, want)
			}
			res, err := Verify(context.Background(), &back.Info, dir, VerifyOptions{})
			if err != nil || !res.Complete() {
				t.Fatalf("Verify of the data just hashed: complete=%v err=%v", res != nil && res.Complete(), err)
			}
		})
	}
}

func TestCreateGivesTheSameInfoHashForTheSameData(t *testing.T) {
	files := map[string]int64{"a": 100000, "sub/b": 200000, "sub/c": 1}
	one := filepath.Join(t.TempDir(), "data")
	two := filepath.Join(t.TempDir(), "data")
	writeTree(t, one, files)
	writeTree(t, two, files)
	// Different modification times and creation order must not matter.
	if err := os.Chtimes(filepath.Join(two, "a"), time.Unix(1, 0), time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	var hashes []InfoHash
	var encoded [][]byte
	for i, root := range []string{one, two, one} {
		tor, err := Create(context.Background(), root, CreateOptions{Trackers: [][]string{{"http://t/announce"}}, Workers: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := tor.Encode()
		hashes = append(hashes, tor.InfoHash())
		encoded = append(encoded, data)
	}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] != hashes[0] || !bytes.Equal(encoded[i], encoded[0]) {
			t.Fatalf("run %d gave %s, run 0 gave %s", i, hashes[i], hashes[0])
		}
	}
}

func TestCreateWritesAnnounceListOnlyForSeveralTrackers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	testenv.WriteRandomFile(t, path, 1000, 1)
	one, err := Create(context.Background(), path, CreateOptions{Trackers: [][]string{{"http://a/announce"}}})
	if err != nil {
		t.Fatal(err)
	}
	if one.Announce != "http://a/announce" || one.AnnounceList != nil {
		t.Fatalf("one tracker: announce %q, announce-list %q", one.Announce, one.AnnounceList)
	}
	two, err := Create(context.Background(), path, CreateOptions{Trackers: [][]string{{"http://a/announce"}, {"http://b/announce"}}})
	if err != nil {
		t.Fatal(err)
	}
	if two.Announce != "http://a/announce" || len(two.AnnounceList) != 2 {
		t.Fatalf("two tiers: announce %q, announce-list %q", two.Announce, two.AnnounceList)
	}
}

func TestAutoPieceLengthAimsForOneToTwoThousandPieces(t *testing.T) {
	tests := []struct {
		total, want int64
	}{
		{1, 256 << 10},
		{500 << 20, 256 << 10},      // 2000 pieces
		{600 << 20, 512 << 10},      // 1200 pieces
		{1 << 30, 1 << 20},          // 1024 pieces
		{4 << 30, 4 << 20},          // 1024 pieces
		{30 << 30, 16 << 20},        // 1920 pieces
		{1 << 40, 16 << 20},         // capped: 65536 pieces
		{(2000 << 20) + 1, 2 << 20}, // one byte over 2000 MiB-pieces
	}
	for _, tt := range tests {
		if got := AutoPieceLength(tt.total); got != tt.want {
			t.Errorf("AutoPieceLength(%d) = %d, want %d", tt.total, got, tt.want)
		}
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteRandomFile(t, filepath.Join(dir, "file"), 1000, 1)
	mkdir := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	emptyDir := mkdir("empty-dir")
	zeros := mkdir("zeros")
	if err := os.WriteFile(filepath.Join(zeros, "z"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := mkdir("dangling")
	testenv.WriteRandomFile(t, filepath.Join(dangling, "ok"), 10, 1)
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dangling, "gone")); err != nil {
		t.Fatal(err)
	}
	loop := mkdir("loop")
	testenv.WriteRandomFile(t, filepath.Join(loop, "ok"), 10, 1)
	if err := os.Symlink(loop, filepath.Join(loop, "self")); err != nil {
		t.Fatal(err)
	}
	backslash := mkdir("backslash")
	testenv.WriteRandomFile(t, filepath.Join(backslash, `a\b`), 10, 1)
	latin1 := filepath.Join(dir, "caf\xe9")
	testenv.WriteRandomFile(t, latin1, 10, 1)
	latin1Inside := mkdir("latin1-inside")
	testenv.WriteRandomFile(t, filepath.Join(latin1Inside, "sub", "na\xefve"), 10, 1)

	file := filepath.Join(dir, "file")
	tests := []struct {
		name    string
		path    string
		opts    CreateOptions
		mention string
	}{
		{"missing path", filepath.Join(dir, "nope"), CreateOptions{}, "no such file"},
		{"empty file", filepath.Join(dir, "empty-file"), CreateOptions{}, "is empty"},
		{"empty folder", emptyDir, CreateOptions{}, "has no files"},
		{"only empty files", zeros, CreateOptions{}, "every file"},
		{"dangling link", dangling, CreateOptions{}, "gone"},
		{"link to a folder", loop, CreateOptions{}, "symbolic link to a folder"},
		{"unstorable name", backslash, CreateOptions{}, "path separator"},
		{"name not UTF-8", latin1, CreateOptions{}, "not valid UTF-8"},
		{"file path not UTF-8", latin1Inside, CreateOptions{}, "sub/na\\xefve\" is not valid UTF-8"},
		{"piece length not a power of two", file, CreateOptions{PieceLength: 100000}, "power of two"},
		{"piece length too small", file, CreateOptions{PieceLength: 8192}, "16 KiB"},
		{"tracker without scheme", file, CreateOptions{Trackers: [][]string{{"tracker.example/announce"}}}, "tracker"},
		{"tracker of another scheme", file, CreateOptions{Trackers: [][]string{{"ftp://t/announce"}}}, "tracker"},
		{"empty tier", file, CreateOptions{Trackers: [][]string{{}}}, "tier 1 is empty"},
		{"udp web seed", file, CreateOptions{WebSeeds: []string{"udp://w:1"}}, "web seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tor, err := Create(context.Background(), tt.path, tt.opts)
			if err == nil {
				t.Fatalf("Create accepted it: %+v", tor.Info)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

// Root reads any file, so as root this runs as the user nobody.
func TestCreateRefusesAnUnreadableFile(t *testing.T) {
	if !testenv.Unprivileged(t) {
		return
	}
	locked := filepath.Join(t.TempDir(), "locked")
	testenv.WriteRandomFile(t, locked, 10, 1)
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(context.Background(), locked, CreateOptions{}); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("unreadable file: err = %v, want permission denied", err)
	}
}

func TestCreateReportsProgressUpToTheTotal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	testenv.WriteRandomFile(t, path, 10*16384+5, 1)
	var calls []int64
	_, err := Create(context.Background(), path, CreateOptions{
		PieceLength: 16384,
		Progress: func(done, total int64) {
			if total != 10*16384+5 {
				t.Errorf("total = %d", total)
			}
			calls = append(calls, done)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 11 || !slices.IsSorted(calls) || calls[len(calls)-1] != 10*16384+5 {
		t.Fatalf("progress calls %v, want 11 rising to the total", calls)
	}
}

func TestCreateStopsWhenCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	testenv.WriteRandomFile(t, path, 64<<20, 1)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Create(ctx, path, CreateOptions{PieceLength: 16384, Progress: func(done, total int64) {
		if done > 1<<20 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestHashingIsRightWhateverTheWorkersAndBuffers covers both ways workers
// pair pieces: waiting for a second one when buffers allow, and taking one
// only if queued when memory limits the buffers.
func TestHashingIsRightWhateverTheWorkersAndBuffers(t *testing.T) {
	root := filepath.Join(t.TempDir(), "set")
	writeTree(t, root, map[string]int64{"a": 200000, "b": 1, "c": 123457})
	tor, err := Create(context.Background(), root, CreateOptions{PieceLength: 16384})
	if err != nil {
		t.Fatal(err)
	}
	files := tor.Info.FileList()
	regions := make([]region, len(files))
	var paths []string
	for i, f := range files {
		regions[i] = region{path: tor.Info.FilePath(filepath.Dir(root), f), length: f.Length}
		paths = append(paths, regions[i].path)
	}
	want := concatHashes(t, paths, 16384)
	for _, workers := range []int{1, 2, 3, 8} {
		for _, buffers := range []int64{2, 5, 100} {
			h := &hashRun{regions: regions, pieceLength: 16384, total: tor.Info.TotalLength(), workers: workers,
				strict: true, bufferMemory: buffers * 16384, v1: true}
			got := make([]byte, len(want))
			h.onPiece = func(r pieceResult) { copy(got[r.index*HashSize:], r.sum[:]) }
			if _, err := h.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%d workers, %d buffers: wrong piece hashes", workers, buffers)
			}
		}
	}
}
