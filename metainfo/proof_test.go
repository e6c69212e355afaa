package metainfo

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"testing"
)

// naiveTree builds every layer of a file's tree from its piece layer the
// slow, obvious way: the piece layer padded to a power of two with the
// root of a piece of zero leaves, then pairs hashed up to the root.
// layers[h] is the layer at height h above the blocks (nil below the
// piece layer).
func naiveTree(layer []Hash256, span int) [][]Hash256 {
	var zero Hash256
	pad := zero
	p := bits.TrailingZeros(uint(span))
	for range p {
		pad = sha256.Sum256(append(pad[:], pad[:]...))
	}
	n := 1
	for n < len(layer) {
		n *= 2
	}
	cur := append([]Hash256(nil), layer...)
	for len(cur) < n {
		cur = append(cur, pad)
	}
	out := make([][]Hash256, p+1)
	out[p] = cur
	for len(cur) > 1 {
		next := make([]Hash256, len(cur)/2)
		for i := range next {
			next[i] = sha256.Sum256(append(cur[2*i][:], cur[2*i+1][:]...))
		}
		out = append(out, next)
		cur = next
	}
	return out
}

// checkProof recomputes, from an answer of Hashes, the node at height
// base+proofLayers+1 it proves, the way a requester does.
func checkProof(t *testing.T, answer []Hash256, base, index, length, proofLayers int) (Hash256, int) {
	t.Helper()
	k := bits.TrailingZeros(uint(length))
	uncles := max(0, proofLayers-k+1)
	if len(answer) != length+uncles {
		t.Fatalf("%d hashes, want %d and %d uncles", len(answer), length, uncles)
	}
	cur := append([]Hash256(nil), answer[:length]...)
	for len(cur) > 1 {
		next := make([]Hash256, len(cur)/2)
		for i := range next {
			next[i] = sha256.Sum256(append(cur[2*i][:], cur[2*i+1][:]...))
		}
		cur = next
	}
	node, h := cur[0], base+k
	for _, u := range answer[length:] {
		if (index>>(h-base))%2 == 0 {
			node = sha256.Sum256(append(node[:], u[:]...))
		} else {
			node = sha256.Sum256(append(u[:], node[:]...))
		}
		h++
	}
	return node, h
}

func TestPieceTreeRootIsLibtorrentsPiecesRoot(t *testing.T) {
	for _, g := range readGoldenMerkle(t) {
		if g.layer == nil {
			continue
		}
		if got := NewPieceTree(g.layer, g.pieceLength).Root(); got != g.root {
			t.Errorf("%d/%d: root %s, libtorrent %s", g.length, g.pieceLength, got, g.root)
		}
	}
}

// TestPieceTreeProofsLeadToTheRoot asks every valid request of a few trees
// and checks each answer as a requester would: the hashes are the layer's,
// and with the uncles they give the node at the proof's top.
func TestPieceTreeProofsLeadToTheRoot(t *testing.T) {
	for _, c := range []struct {
		pieces      int
		pieceLength int64
	}{{2, 16384}, {3, 32768}, {5, 16384}, {13, 65536}, {600, 32768}, {1025, 16384}} {
		t.Run(fmt.Sprintf("%d pieces of %d", c.pieces, c.pieceLength), func(t *testing.T) {
			layer := make([]Hash256, c.pieces)
			for i := range layer {
				layer[i] = sha256.Sum256([]byte(strconv.Itoa(i)))
			}
			span := int(c.pieceLength / BlockSize)
			want := naiveTree(layer, span)
			tree := NewPieceTree(layer, c.pieceLength)
			top := len(want) - 1
			if tree.Root() != want[top][0] {
				t.Fatalf("root %s, want %s", tree.Root(), want[top][0])
			}
			p := bits.TrailingZeros(uint(span))
			asked := 0
			for base := p; base < top; base++ {
				size := 1 << (top - base)
				for length := 1; length <= min(size, MaxHashRequest); length *= 2 {
					for index := 0; index < size; index += length {
						if asked > 3000 && index > 0 && index+length < size {
							continue // the ends and the start are the interesting ones
						}
						for proof := 0; base+proof < top; proof++ {
							asked++
							got, err := tree.Hashes(uint32(base), uint32(index), uint32(length), uint32(proof))
							if err != nil {
								t.Fatalf("Hashes(%d, %d, %d, %d): %v", base, index, length, proof, err)
							}
							for i := range length {
								if got[i] != want[base][index+i] {
									t.Fatalf("Hashes(%d, %d, %d, %d): hash %d wrong", base, index, length, proof, i)
								}
							}
							node, h := checkProof(t, got, base, index, length, proof)
							if h <= top && node != want[h][index>>(h-base)] {
								t.Fatalf("Hashes(%d, %d, %d, %d): the proof does not lead to the tree's node at height %d", base, index, length, proof, h)
							}
						}
					}
				}
			}
		})
	}
}

func TestPieceTreeRefusesWhatBEP52Forbids(t *testing.T) {
	layer := make([]Hash256, 1000) // 1,024 leaves in the piece layer
	for i := range layer {
		layer[i] = sha256.Sum256([]byte{byte(i), byte(i >> 8)})
	}
	tree := NewPieceTree(layer, 4*BlockSize) // piece layer at height 2, root at 12
	for _, c := range []struct {
		base, index, length, proof uint32
		want                       error
	}{
		{0, 0, 4, 0, ErrBelowPieceLayer},
		{1, 0, 2, 0, ErrBelowPieceLayer},
		{2, 0, 3, 0, ErrBadHashRequest},    // not a power of two
		{2, 0, 0, 0, ErrBadHashRequest},    // nothing
		{2, 0, 1024, 0, ErrBadHashRequest}, // more than 512
		{2, 2, 4, 0, ErrBadHashRequest},    // index not a multiple of length
		{2, 1024, 2, 0, ErrBadHashRequest}, // past the layer
		{2, 0, 512, 10, ErrBadHashRequest}, // proof reaches the root
		{12, 0, 1, 0, ErrBadHashRequest},   // the root's layer
		{40, 0, 1, 0, ErrBadHashRequest},
		{2, 0xFFFFFFFE, 2, 0, ErrBadHashRequest},
		{2, 0, 2, 0xFFFFFFFF, ErrBadHashRequest},
	} {
		if _, err := tree.Hashes(c.base, c.index, c.length, c.proof); !errors.Is(err, c.want) {
			t.Errorf("Hashes(%d, %d, %d, %d) = %v, want %v", c.base, c.index, c.length, c.proof, err, c.want)
		}
	}
	got, err := tree.Hashes(2, 512, 512, 9)
	if err != nil || len(got) != 512+1 {
		t.Fatalf("the second half of the layer with its uncle: %d hashes, %v", len(got), err)
	}
}

// TestPieceTreeAnswersWhatLibtorrentAsks is the request libtorrent 2.0
// sends for a file's piece layer when it joined by magnet link: up to 512
// hashes from the start, with proof layers up to just below the root, so no
// uncle for a file of at most 512 pieces and one per layer above the 512
// for a longer one.
func TestPieceTreeAnswersWhatLibtorrentAsks(t *testing.T) {
	for _, pieces := range []int{7, 512, 700} {
		layer := make([]Hash256, pieces)
		for i := range layer {
			layer[i] = sha256.Sum256([]byte{byte(i), byte(i >> 8), 1})
		}
		tree := NewPieceTree(layer, 2*BlockSize)
		top := tree.height()
		n := 1
		for n < pieces {
			n *= 2
		}
		count := min(MaxHashRequest, n)
		proof := top - 1 - 1 // piece layer at height 1, up to below the root
		got, err := tree.Hashes(1, 0, uint32(count), uint32(proof))
		if err != nil {
			t.Fatal(err)
		}
		node, h := checkProof(t, got, 1, 0, count, proof)
		if h != top || node != tree.Root() {
			t.Fatalf("%d pieces: the answer proves height %d, not the root", pieces, h)
		}
	}
}
