package metainfo

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// goldenMerkle is where merkleCases' pieces roots and piece layers are
// kept, as libtorrent computed them (TestMerkleGoldenAgreesWithLibtorrent
// checks, and with -update rewrites, the file): one line per case,
// "length piece-length pieces-root piece-layer", the layer "-" for a file
// that fits in one piece. The data of a case is patternData(length).
const goldenMerkle = "testdata/merkle.golden"

// merkleCases are the file lengths and piece lengths of the golden file.
var merkleCases = [][2]int64{
	{1, 16384},           // smaller than a block
	{16384, 16384},       // exactly one block, one piece
	{16385, 16384},       // one byte into a second block and piece
	{49152, 16384},       // three pieces: the layer pads with one zero leaf
	{40000, 65536},       // three blocks in one piece: padded to four leaves
	{65536, 65536},       // exactly one piece of four blocks
	{65537, 65536},       // one byte into a second piece
	{163940, 32768},      // six pieces, the last short: padded to eight
	{300001, 32768},      // ten pieces: padded to sixteen
	{1_000_001, 16384},   // many pieces
	{5 * 262144, 262144}, // whole pieces of sixteen blocks, odd count
}

// patternData returns n bytes a Python one-liner can make too.
func patternData(n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

type goldenRoot struct {
	length, pieceLength int64
	root                Hash256
	layer               []Hash256
}

func readGoldenMerkle(t *testing.T) []goldenRoot {
	t.Helper()
	f, err := os.Open(goldenMerkle)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenRoot
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 {
			t.Fatalf("%s: bad line %q", goldenMerkle, sc.Text())
		}
		var g goldenRoot
		g.length, _ = strconv.ParseInt(fields[0], 10, 64)
		g.pieceLength, _ = strconv.ParseInt(fields[1], 10, 64)
		root, err := hex.DecodeString(fields[2])
		if err != nil || len(root) != HashSizeV2 {
			t.Fatalf("%s: bad root in %q", goldenMerkle, sc.Text())
		}
		g.root = Hash256(root)
		if fields[3] != "-" {
			layer, err := hex.DecodeString(fields[3])
			if err != nil || len(layer)%HashSizeV2 != 0 {
				t.Fatalf("%s: bad layer in %q", goldenMerkle, sc.Text())
			}
			for i := 0; i < len(layer); i += HashSizeV2 {
				g.layer = append(g.layer, Hash256(layer[i:i+HashSizeV2]))
			}
		}
		out = append(out, g)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(merkleCases) {
		t.Fatalf("%s has %d cases, want %d (run TestMerkleGoldenAgreesWithLibtorrent with -update)", goldenMerkle, len(out), len(merkleCases))
	}
	return out
}

// TestMerkleRootsMatchLibtorrentsGolden computes every golden case twice:
// with the exported helpers over the data in memory, and with Create over
// a file, which hashes pieces on the workers.
func TestMerkleRootsMatchLibtorrentsGolden(t *testing.T) {
	for _, g := range readGoldenMerkle(t) {
		t.Run(strconv.FormatInt(g.length, 10)+"/"+strconv.FormatInt(g.pieceLength, 10), func(t *testing.T) {
			data := patternData(g.length)
			span := g.pieceLength / BlockSize
			var root Hash256
			var layer []Hash256
			if g.length <= g.pieceLength {
				root = BlocksRoot(data, 0)
			} else {
				for p := data; len(p) > 0; p = p[min(len(p), int(g.pieceLength)):] {
					layer = append(layer, BlocksRoot(p[:min(len(p), int(g.pieceLength))], span))
				}
				root = MerkleRoot(layer, span)
			}
			if root != g.root || !slices.Equal(layer, g.layer) {
				t.Fatalf("root %s, layer of %d; libtorrent: %s, layer of %d", root, len(layer), g.root, len(g.layer))
			}

			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			tor, err := Create(context.Background(), path, CreateOptions{Version: V2, PieceLength: g.pieceLength, Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			f := tor.Info.FileTree[0]
			if f.PiecesRoot != g.root || !slices.Equal(tor.PieceLayers[f.PiecesRoot], g.layer) {
				t.Fatalf("Create: root %s, layers %v; libtorrent: %s", f.PiecesRoot, tor.PieceLayers, g.root)
			}
		})
	}
}

// TestMerkleTreePadsWithZeroLeavesNotHashesOfZeroBlocks spells out BEP 52's
// padding: leaves past the end of a file are 32 zero bytes, and a piece
// layer is padded with the root of a piece of such leaves.
func TestMerkleTreePadsWithZeroLeavesNotHashesOfZeroBlocks(t *testing.T) {
	data := patternData(2*BlockSize + 100) // three blocks, the last short
	h := func(b []byte) Hash256 { return sha256.Sum256(b) }
	b0, b1, b2 := h(data[:BlockSize]), h(data[BlockSize:2*BlockSize]), h(data[2*BlockSize:])
	var zero Hash256
	want := hashPair(hashPair(b0, b1), hashPair(b2, zero))
	if got := BlocksRoot(data, 0); got != want {
		t.Fatalf("BlocksRoot = %s, want %s", got, want)
	}
	zeroBlock := h(make([]byte, BlockSize))
	if hashPair(hashPair(b0, b1), hashPair(b2, zeroBlock)) == want {
		t.Fatal("padding with the hash of a zero block gives the same root")
	}
	// As a piece of eight blocks: four more zero leaves.
	zero4 := hashPair(hashPair(zero, zero), hashPair(zero, zero))
	if got := BlocksRoot(data, 8); got != hashPair(want, zero4) {
		t.Fatalf("BlocksRoot(8 leaves) = %s", got)
	}
	// A layer of three 4-block pieces pads with the root of a zero piece.
	layer := []Hash256{b0, b1, b2}
	if got := MerkleRoot(layer, 4); got != hashPair(hashPair(b0, b1), hashPair(b2, zero4)) {
		t.Fatalf("MerkleRoot(span 4) = %s", got)
	}
	if layer[0] != b0 {
		t.Fatal("MerkleRoot changed its argument")
	}
	if MerkleRoot([]Hash256{b0}, 4) != b0 || MerkleRoot(nil, 1) != zero {
		t.Fatal("a layer of one hash is its own root; none is zero")
	}
}

func TestPadHashesAreRootsOfZeroSubtrees(t *testing.T) {
	var zero Hash256
	if padHashes[0] != zero || padHashes[1] != hashPair(zero, zero) || padHashes[3] != hashPair(padHashes[2], padHashes[2]) {
		t.Fatal("padHashes are not the roots of all-zero subtrees")
	}
}
