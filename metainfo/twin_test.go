package metainfo

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// twinFiles are sizes that are not multiples of the piece length, so the
// hybrid has padding, in names whose tree order is also mktorrent's order.
var twinFiles = map[string]int64{"a.bin": 70001, "b/c.bin": 16385, "b/d.txt": 999, "e": 40000}

func TestCreateHybridMakesATwinOfExactlyTheFiles(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "release")
	writeTree(t, root, twinFiles)
	opts := CreateOptions{
		Trackers:     [][]string{{"http://t.example/announce"}},
		WebSeeds:     []string{"http://ws.example/"},
		PieceLength:  16384,
		CreationDate: time.Unix(1700000000, 0),
	}
	hybrid, twin, err := CreateHybrid(context.Background(), root, opts)
	if err != nil {
		t.Fatal(err)
	}
	if hybrid.Info.Version() != Hybrid || twin.Info.Version() != V1 {
		t.Fatalf("versions %s and %s", hybrid.Info.Version(), twin.Info.Version())
	}
	if !hasPadding(hybrid.Info.Files) || hasPadding(twin.Info.Files) {
		t.Fatal("the hybrid should have padding files and the twin none")
	}
	// The same files, in the hybrid's order, nothing else.
	var want, got []string
	var disk []string
	for _, f := range hybrid.Info.Files {
		if !f.IsPadding() {
			want = append(want, strings.Join(f.Path, "/"))
			disk = append(disk, hybrid.Info.FilePath(dir, f))
		}
	}
	for _, f := range twin.Info.Files {
		got = append(got, strings.Join(f.Path, "/"))
	}
	if !slices.Equal(got, want) || len(got) != len(twinFiles) {
		t.Fatalf("twin files %q, hybrid files %q", got, want)
	}
	if !bytes.Equal(twin.Info.Pieces, concatHashes(t, disk, 16384)) {
		t.Fatal("twin pieces differ from hashing the files without padding")
	}
	v1, _ := hybrid.InfoHashV1()
	if twin.InfoHash() == v1 || twin.InfoHash() == hybrid.InfoHash() {
		t.Fatal("the twin has the hybrid's info hash")
	}
	if !twin.Info.IsTwinOf(&hybrid.Info) || hybrid.Info.IsTwinOf(&hybrid.Info) || twin.Info.IsTwinOf(&twin.Info) {
		t.Fatal("IsTwinOf wrong")
	}
	// Outside the info dictionary: the hybrid's trackers and web seeds,
	// and a comment naming the hybrid.
	if !reflect.DeepEqual(twin.Trackers(), hybrid.Trackers()) || !slices.Equal(twin.WebSeeds, hybrid.WebSeeds) ||
		!strings.Contains(twin.Comment, v1.String()) || !twin.CreationDate.Equal(hybrid.CreationDate) {
		t.Fatalf("twin %+v", twin)
	}
	data, err := twin.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil || back.InfoHash() != twin.InfoHash() {
		t.Fatalf("parsed twin: %v, %v", back, err)
	}
	res, err := Verify(context.Background(), &back.Info, dir, VerifyOptions{})
	if err != nil || !res.Complete() {
		t.Fatalf("Verify of the twin: %v", err)
	}
	// Here tree order is mktorrent's order: the twin is the v1 torrent
	// Create makes with the same piece length.
	plain, err := Create(context.Background(), root, CreateOptions{PieceLength: 16384})
	if err != nil {
		t.Fatal(err)
	}
	if plain.InfoHash() != twin.InfoHash() {
		t.Fatalf("twin %s, plain v1 torrent %s", twin.InfoHash(), plain.InfoHash())
	}
}

func TestTwinInfoHashIsTheSameHoweverItIsMade(t *testing.T) {
	root := filepath.Join(t.TempDir(), "release")
	writeTree(t, root, twinFiles)
	var hashes []InfoHash
	var hybrids []*Torrent
	for _, workers := range []int{1, 3} {
		var done, total int64
		opts := CreateOptions{PieceLength: 16384, Workers: workers, Progress: func(d, n int64) { done, total = d, n }}
		hybrid, twin, err := CreateHybrid(context.Background(), root, opts)
		if err != nil {
			t.Fatal(err)
		}
		if size := twin.Info.TotalLength(); done != total || total != hybrid.Info.TotalLength()+size {
			t.Fatalf("progress ended at %d of %d, want both pieces' bytes", done, total)
		}
		hashes = append(hashes, twin.InfoHash())
		hybrids = append(hybrids, hybrid)
	}
	// From the hybrid alone, as when its .torrent exists but not the twin's.
	twin, err := CreateTwin(context.Background(), hybrids[0], root, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	hashes = append(hashes, twin.InfoHash())
	if hashes[0] != hashes[1] || hashes[0] != hashes[2] {
		t.Fatalf("twin info hashes %v", hashes)
	}
	if hybrids[0].InfoHash() != hybrids[1].InfoHash() {
		t.Fatal("the hybrid changed with the workers")
	}
	if _, err := CreateTwin(context.Background(), twin, root, 0, nil); err == nil {
		t.Fatal("CreateTwin of a v1 torrent: no error")
	}
}

func TestATwinWithoutPaddingSharesTheHybridsPieces(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, filepath.Join(dir, "one"), map[string]int64{"x": 50001})
	hybrid, twin, err := CreateHybrid(context.Background(), filepath.Join(dir, "one", "x"), CreateOptions{PieceLength: 16384})
	if err != nil {
		t.Fatal(err)
	}
	if twin.Info.IsMultiFile() || twin.Info.Length != 50001 || !bytes.Equal(twin.Info.Pieces, hybrid.Info.Pieces) {
		t.Fatalf("single-file twin %+v", twin.Info)
	}
	// No padding, nothing to read: the data need not even be there.
	again, err := CreateTwin(context.Background(), hybrid, filepath.Join(dir, "gone"), 0, nil)
	if err != nil || again.InfoHash() != twin.InfoHash() {
		t.Fatalf("CreateTwin without data: %v", err)
	}
}

func TestIsTwinOfComparesEverythingButThePieces(t *testing.T) {
	root := filepath.Join(t.TempDir(), "release")
	writeTree(t, root, twinFiles)
	hybrid, twin, err := CreateHybrid(context.Background(), root, CreateOptions{PieceLength: 16384})
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Info){
		"piece length": func(in *Info) { in.PieceLength *= 2 },
		"name":         func(in *Info) { in.Name += "x" },
		"private":      func(in *Info) { in.Private = true },
		"source":       func(in *Info) { in.Source = "s" },
		"file length":  func(in *Info) { in.Files[0].Length++ },
		"file order":   func(in *Info) { in.Files[0], in.Files[1] = in.Files[1], in.Files[0] },
		"file missing": func(in *Info) { in.Files = in.Files[1:] },
	} {
		in := twin.Info
		in.Files = slices.Clone(in.Files)
		change(&in)
		if in.IsTwinOf(&hybrid.Info) {
			t.Errorf("%s changed: still a twin", name)
		}
	}
	in := twin.Info
	in.Pieces = bytes.Repeat([]byte{1}, len(in.Pieces))
	if !in.IsTwinOf(&hybrid.Info) {
		t.Error("other pieces: not a twin")
	}
}

// TestTwinHashingIsRightWhateverTheWorkersAndBuffers runs the one read that
// hashes a hybrid and its twin with as few buffers as it allows: the reader
// then holds a partly filled buffer of each.
func TestTwinHashingIsRightWhateverTheWorkersAndBuffers(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "release")
	writeTree(t, root, twinFiles)
	hybrid, twin, err := CreateHybrid(context.Background(), root, CreateOptions{PieceLength: 16384})
	if err != nil {
		t.Fatal(err)
	}
	var regions []region
	for _, f := range hybrid.Info.Files {
		regions = append(regions, region{path: hybrid.Info.FilePath(dir, f), length: f.Length, padding: f.IsPadding()})
	}
	for _, workers := range []int{1, 2, 8} {
		for _, buffers := range []int64{1, 3, 100} {
			h := &hashRun{regions: regions, pieceLength: 16384, total: hybrid.Info.TotalLength(), workers: workers,
				strict: true, bufferMemory: buffers * 16384, v1: true, twin: true}
			got, gotTwin := make([]byte, len(hybrid.Info.Pieces)), make([]byte, len(twin.Info.Pieces))
			h.onPiece = func(r pieceResult) {
				if r.twin {
					copy(gotTwin[r.index*HashSize:], r.sum[:])
				} else {
					copy(got[r.index*HashSize:], r.sum[:])
				}
			}
			if _, err := h.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, hybrid.Info.Pieces) || !bytes.Equal(gotTwin, twin.Info.Pieces) {
				t.Fatalf("%d workers, %d buffers: wrong piece hashes", workers, buffers)
			}
		}
	}
}
