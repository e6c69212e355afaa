package metainfo

import (
	"errors"
	"fmt"
	"math/bits"
)

// MaxHashRequest is the most hashes a BEP 52 hash request may ask for
// from one layer; BEP 52 says requests SHOULD NOT ask for more.
const MaxHashRequest = 512

// Errors of PieceTree.Hashes. Either way the answer is a hash reject.
var (
	// ErrBelowPieceLayer: the request asks for a layer below the piece
	// layer (block hashes), which a piece tree does not hold.
	ErrBelowPieceLayer = errors.New("metainfo: hashes below the piece layer are not kept")
	// ErrBadHashRequest: the request breaks BEP 52's rules or lies
	// outside the file's tree.
	ErrBadHashRequest = errors.New("metainfo: invalid hash request")
)

// PieceTree is the upper part of one file's BEP 52 merkle tree: its piece
// layer and every layer above it up to the pieces root, from which a
// seeder answers hash requests (BEP 52) without touching the data. Only a
// file longer than one piece has one. It is built once, in time and
// memory proportional to the file's pieces, so that each answer costs
// only the hashes it holds. It is safe for concurrent use.
type PieceTree struct {
	// layers[0] is the piece layer, layers[len-1] holds only the root;
	// each lists the nodes that cover file data, the rest of the layer
	// being padding (padHashes).
	layers [][]Hash256
	// pieceHeight is the piece layer's height above the 16 KiB blocks.
	pieceHeight int
}

// NewPieceTree builds the tree over a file's piece layer (one hash per
// piece of pieceLength bytes, as PieceLayers holds it). Its Root is the
// file's pieces root when the layer is right.
func NewPieceTree(layer []Hash256, pieceLength int64) *PieceTree {
	t := &PieceTree{pieceHeight: log2(pieceLength / BlockSize)}
	cur := append([]Hash256(nil), layer...)
	t.layers = append(t.layers, cur)
	for h := t.pieceHeight; len(cur) > 1; h++ {
		next := make([]Hash256, (len(cur)+1)/2)
		for i := range next {
			right := padHashes[h]
			if 2*i+1 < len(cur) {
				right = cur[2*i+1]
			}
			next[i] = hashPair(cur[2*i], right)
		}
		t.layers = append(t.layers, next)
		cur = next
	}
	return t
}

// Root is the root of the tree: the file's pieces root.
func (t *PieceTree) Root() Hash256 {
	if len(t.layers[0]) == 0 {
		return Hash256{}
	}
	return t.layers[len(t.layers)-1][0]
}

// height is the number of layers above the blocks: the root's height.
func (t *PieceTree) height() int { return t.pieceHeight + len(t.layers) - 1 }

// node returns the hash at height h (>= pieceHeight) and index i of its
// layer: a padding hash past the file's data.
func (t *PieceTree) node(h, i int) Hash256 {
	l := t.layers[h-t.pieceHeight]
	if i < len(l) {
		return l[i]
	}
	return padHashes[h]
}

// Hashes answers a BEP 52 hash request: length hashes of layer base (0 for
// the blocks) from index, then the uncle hashes that prove them, lowest
// first. The requested hashes are the leaves of a subtree, whose root and
// the layers below it the requester computes itself; proofLayers counts
// the layers above base the proof reaches, so it holds the sibling of each
// ancestor of the subtree's root (the root included) up to height
// base+proofLayers, as libtorrent reads it: proofLayers-log2(length)+1
// uncles. The root of the whole tree has no sibling: a proof reaching it
// is invalid, as are a length that is not a power of two or exceeds
// MaxHashRequest, an index not a multiple of length, and hashes past the
// layer's end (the tree's leaves are the file's blocks rounded up to a
// power of two). Layers below the piece layer are ErrBelowPieceLayer.
func (t *PieceTree) Hashes(base, index, length, proofLayers uint32) ([]Hash256, error) {
	top := t.height()
	switch {
	case length == 0 || length > MaxHashRequest || bits.OnesCount32(length) != 1:
		return nil, fmt.Errorf("%w: length %d is not a power of two up to %d", ErrBadHashRequest, length, MaxHashRequest)
	case index%length != 0:
		return nil, fmt.Errorf("%w: index %d is not a multiple of length %d", ErrBadHashRequest, index, length)
	case int64(base) >= int64(top):
		return nil, fmt.Errorf("%w: base layer %d of a tree of %d layers", ErrBadHashRequest, base, top)
	case int(base) < t.pieceHeight:
		return nil, fmt.Errorf("%w (base layer %d, piece layer %d)", ErrBelowPieceLayer, base, t.pieceHeight)
	case uint64(index)+uint64(length) > uint64(1)<<(top-int(base)):
		return nil, fmt.Errorf("%w: hashes %d to %d of a layer of %d", ErrBadHashRequest, index, uint64(index)+uint64(length), uint64(1)<<(top-int(base)))
	case int64(base)+int64(proofLayers) >= int64(top):
		return nil, fmt.Errorf("%w: %d proof layers above layer %d reach the root (height %d)", ErrBadHashRequest, proofLayers, base, top)
	}
	b, k := int(base), bits.TrailingZeros32(length)
	out := make([]Hash256, 0, int(length)+max(0, int(proofLayers)-k+1))
	for i := range int(length) {
		out = append(out, t.node(b, int(index)+i))
	}
	for h := b + k; h <= b+int(proofLayers); h++ {
		ancestor := int(index >> (h - b))
		out = append(out, t.node(h, ancestor^1))
	}
	return out, nil
}
