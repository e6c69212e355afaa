package metainfo

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bencode "github.com/jackpal/bencode-go"
)

// createdTorrent makes a torrent of patternData files with Create and
// returns it decoded into generic values, for tests to break: "a" of 40,000
// bytes (three 16 KiB pieces, so a piece layer), "b/c" of 1,000 and an
// empty "e" in a folder "set"; or, single, "single.bin" of 100,001 bytes.
func createdTorrent(t testing.TB, v Version, single bool) map[string]any {
	t.Helper()
	root := t.TempDir()
	target := filepath.Join(root, "set")
	files := map[string]int64{"a": 40000, "b/c": 1000, "e": 0}
	if single {
		target = filepath.Join(root, "single.bin")
		files = map[string]int64{"single.bin": 100001}
		root = filepath.Dir(target)
	}
	for name, n := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if !single {
			p = filepath.Join(target, filepath.FromSlash(name))
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, patternData(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tor, err := Create(context.Background(), target, CreateOptions{Version: v, PieceLength: 16384, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := tor.Encode()
	if err != nil {
		t.Fatal(err)
	}
	top, err := bencode.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return top.(map[string]any)
}

// Accessors into a createdTorrent.
func infoOf(top map[string]any) map[string]any { return top["info"].(map[string]any) }
func treeOf(top map[string]any) map[string]any { return infoOf(top)["file tree"].(map[string]any) }
func layersOf(top map[string]any) map[string]any {
	return top["piece layers"].(map[string]any)
}
func leafOf(top map[string]any, path ...string) map[string]any {
	n := treeOf(top)
	for _, c := range path {
		n = n[c].(map[string]any)
	}
	return n[""].(map[string]any)
}
func filesOf(top map[string]any) []any { return infoOf(top)["files"].([]any) }

// onlyLayer returns the key of the one piece layer ("a"'s).
func onlyLayer(top map[string]any) string {
	for k := range layersOf(top) {
		return k
	}
	panic("no piece layer")
}

type hostileV2 struct {
	name    string
	version Version
	single  bool
	break_  func(top map[string]any)
	mention string
}

var hostileV2Cases = []hostileV2{
	{"layer one hash short", V2, false, func(top map[string]any) {
		k := onlyLayer(top)
		layersOf(top)[k] = layersOf(top)[k].(string)[:2*HashSizeV2]
	}, "2 hashes, but"},
	{"layer not whole hashes", V2, false, func(top map[string]any) {
		k := onlyLayer(top)
		layersOf(top)[k] = layersOf(top)[k].(string) + "x"
	}, "not a positive multiple of 32"},
	{"layer empty", V2, false, func(top map[string]any) { layersOf(top)[onlyLayer(top)] = "" }, "not a positive multiple"},
	{"layer not leading to the root", V2, false, func(top map[string]any) {
		k := onlyLayer(top)
		b := []byte(layersOf(top)[k].(string))
		b[40] ^= 1
		layersOf(top)[k] = string(b)
	}, "merkle root"},
	{"layer missing", V2, false, func(top map[string]any) { delete(layersOf(top), onlyLayer(top)) }, "missing for \"set/a\""},
	{"piece layers missing", V2, false, func(top map[string]any) { delete(top, "piece layers") }, "missing for"},
	{"layer for no file", V2, false, func(top map[string]any) {
		layersOf(top)[strings.Repeat("z", 32)] = strings.Repeat("y", 32)
	}, "not the pieces root of any file"},
	{"layer for a one-piece file", V2, false, func(top map[string]any) {
		layersOf(top)[leafOf(top, "b", "c")["pieces root"].(string)] = strings.Repeat("y", 32)
	}, "not the pieces root of any file"},
	{"layer key not a hash", V2, false, func(top map[string]any) { layersOf(top)["abc"] = strings.Repeat("y", 32) }, "key of 3 bytes"},
	{"piece layers not a dictionary", V2, false, func(top map[string]any) { top["piece layers"] = "x" }, "want dictionary"},
	{"pieces root short", V2, false, func(top map[string]any) { leafOf(top, "b", "c")["pieces root"] = "x" }, "1 bytes, want 32"},
	{"pieces root missing", V2, false, func(top map[string]any) { delete(leafOf(top, "b", "c"), "pieces root") }, `["b"]["c"][""].pieces root: missing`},
	{"pieces root of an empty file", V2, false, func(top map[string]any) {
		leafOf(top, "e")["pieces root"] = strings.Repeat("r", 32)
	}, "present for an empty file"},
	{"pieces root of a one-piece file wrong", V2, false, func(top map[string]any) {
		// Parse cannot know; the data check must find it.
		leafOf(top, "b", "c")["pieces root"] = strings.Repeat("r", 32)
	}, ""},
	{"length missing", V2, false, func(top map[string]any) { delete(leafOf(top, "e"), "length") }, "length: missing"},
	{"length negative", V2, false, func(top map[string]any) { leafOf(top, "e")["length"] = int64(-1) }, "must not be negative"},
	{"length a string", V2, false, func(top map[string]any) { leafOf(top, "e")["length"] = "1" }, "want integer"},
	{"lengths overflowing", V2, false, func(top map[string]any) {
		leafOf(top, "a")["length"] = int64(math.MaxInt64 - 10)
	}, "overflows int64"},
	{"file that is also a folder", V2, false, func(top map[string]any) {
		treeOf(top)["e"].(map[string]any)["x"] = map[string]any{"": map[string]any{"length": int64(0)}}
	}, "also a folder"},
	{"empty folder", V2, false, func(top map[string]any) { treeOf(top)["d"] = map[string]any{} }, "empty folder"},
	{"empty file tree", V2, false, func(top map[string]any) { infoOf(top)["file tree"] = map[string]any{} }, "info.file tree: empty"},
	{"file tree a file", V2, false, func(top map[string]any) {
		infoOf(top)["file tree"] = map[string]any{"": map[string]any{"length": int64(0)}}
	}, "top of the tree is a file"},
	{"file tree a list", V2, false, func(top map[string]any) { infoOf(top)["file tree"] = []any{} }, "want dictionary, got list"},
	{"node a string", V2, false, func(top map[string]any) { treeOf(top)["x"] = "y" }, "want dictionary, got string"},
	{"dot-dot", V2, false, func(top map[string]any) {
		treeOf(top)[".."] = map[string]any{"e": treeOf(top)["e"]}
	}, `path component ".."`},
	{"separator in a name", V2, false, func(top map[string]any) { treeOf(top)["x/y"] = treeOf(top)["e"] }, "path separator"},
	{"padding in the tree", V2, false, func(top map[string]any) { leafOf(top, "e")["attr"] = "p" }, "padding file in a file tree"},
	{"deep tree", V2, false, func(top map[string]any) {
		n := treeOf(top)["e"]
		for range 120 {
			n = map[string]any{"d": n}
		}
		treeOf(top)["z"] = n
	}, "depth"},
	{"meta version 3", V2, false, func(top map[string]any) { infoOf(top)["meta version"] = int64(3) }, "3 is not supported"},
	{"meta version missing", V2, false, func(top map[string]any) { delete(infoOf(top), "meta version") }, "missing, but info.file tree"},
	{"file tree missing", V2, false, func(top map[string]any) { delete(infoOf(top), "file tree") }, "info.file tree: missing"},
	{"pieces without v1 files", V2, false, func(top map[string]any) {
		infoOf(top)["pieces"] = strings.Repeat("h", 80)
	}, "present without info.length or info.files"},
	{"single file not named as the torrent", V2, true, func(top map[string]any) {
		infoOf(top)["name"] = "other.bin"
	}, "not named \"other.bin\""},

	{"hybrid v1 file renamed", Hybrid, false, func(top map[string]any) {
		filesOf(top)[0].(map[string]any)["path"] = []any{"z"}
	}, "where the file tree has"},
	{"hybrid v1 length differs", Hybrid, false, func(top map[string]any) {
		filesOf(top)[2].(map[string]any)["length"] = int64(999)
	}, "where the file tree has"},
	{"hybrid padding misplaced", Hybrid, false, func(top map[string]any) {
		f := filesOf(top)
		f[1], f[2] = f[2], f[1]
	}, "starts at byte 40000, not at byte 49152"},
	{"hybrid padding missing", Hybrid, false, func(top map[string]any) {
		f := filesOf(top)
		infoOf(top)["files"] = append(f[:1:1], f[2:]...)
	}, "info.pieces"},
	{"hybrid v1 file not in the tree", Hybrid, false, func(top map[string]any) {
		infoOf(top)["files"] = append(filesOf(top), map[string]any{"length": int64(0), "path": []any{"zz"}})
	}, "not in the file tree"},
	{"hybrid tree file not in v1", Hybrid, false, func(top map[string]any) {
		f := filesOf(top)
		infoOf(top)["files"] = f[:len(f)-1]
	}, `["e"]: not in info.files`},
	{"hybrid attributes differ", Hybrid, false, func(top map[string]any) {
		filesOf(top)[0].(map[string]any)["attr"] = "x"
	}, "in the file tree"},
	{"hybrid with a v1 piece more", Hybrid, false, func(top map[string]any) {
		infoOf(top)["files"] = append(filesOf(top), map[string]any{"attr": "p", "length": int64(20000), "path": []any{".pad", "20000"}})
		infoOf(top)["pieces"] = infoOf(top)["pieces"].(string) + strings.Repeat("h", 20)
	}, "5 pieces, but the file tree's files fill 4"},
	{"hybrid without v1 pieces", Hybrid, false, func(top map[string]any) { delete(infoOf(top), "pieces") }, "missing, but v1 files"},
	{"hybrid single file of another length", Hybrid, true, func(top map[string]any) {
		infoOf(top)["length"] = int64(100000)
	}, "does not hold the one file"},
	{"hybrid single file and a v1 folder", Hybrid, true, func(top map[string]any) {
		delete(infoOf(top), "length")
		infoOf(top)["files"] = []any{map[string]any{"length": int64(100001), "path": []any{"single.bin"}}}
	}, "a single file, but info.files lists a folder"},
}

// hostileBytes returns a broken torrent of each case.
func hostileBytes(t testing.TB, tc hostileV2) []byte {
	top := createdTorrent(t, tc.version, tc.single)
	tc.break_(top)
	return []byte(benc(top))
}

func TestParseRefusesHostileV2Torrents(t *testing.T) {
	for _, tc := range hostileV2Cases {
		t.Run(tc.name, func(t *testing.T) {
			data := hostileBytes(t, tc)
			tor, err := Parse(data)
			if tc.mention == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", tor.Info)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

// TestVerifyFindsAWrongRootOfAOnePieceFile: a file of one piece has no
// piece layer, so only its data can show that its pieces root is wrong.
func TestVerifyFindsAWrongRootOfAOnePieceFile(t *testing.T) {
	top := createdTorrent(t, V2, false)
	leafOf(top, "b", "c")["pieces root"] = strings.Repeat("r", 32)
	tor, err := Parse([]byte(benc(top)))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeV2Set(t, root)
	res, err := Verify(context.Background(), &tor.Info, root, VerifyOptions{PieceLayers: tor.PieceLayers})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatched) != 1 || res.Mismatched[0] != 3 {
		t.Fatalf("mismatched %v, want piece 3 (b/c's only piece)", res.Mismatched)
	}
}

// writeV2Set writes createdTorrent's folder into root.
func writeV2Set(t *testing.T, root string) {
	t.Helper()
	for name, n := range map[string]int64{"a": 40000, "b/c": 1000, "e": 0} {
		p := filepath.Join(root, "set", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, patternData(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestParseRefusesAHugeFileTree: a tree of more values than the decoder
// allows is refused before it is built, whatever its shape.
func TestParseRefusesAHugeFileTree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 16 MB torrent")
	}
	var b strings.Builder
	b.WriteString("d4:infod9:file treed")
	const files = 520_000 // six values each: over the 3 million limit
	for i := range files {
		name := strings.Repeat("0", 7-len(itoa(i))) + itoa(i)
		b.WriteString("7:" + name + "d0:d6:lengthi0eee")
	}
	b.WriteString("e12:meta versioni2e4:name1:x12:piece lengthi16384ee12:piece layersdee")
	_, err := Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "element count") {
		t.Fatalf("err = %v, want the element limit", err)
	}
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(buf[n:])
		}
	}
}
