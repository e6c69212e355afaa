package metainfo

import (
	"crypto/sha256"
	"fmt"
	"math/bits"
)

// BlockSize is the size of a leaf of a BEP 52 merkle tree: a file is hashed
// in 16 KiB blocks, its last block possibly shorter. It is also the size of
// a block on the peer wire.
const BlockSize = 16 << 10

// padHashes[k] is the root of a subtree of 2^k leaves that all lie past the
// end of a file. BEP 52 sets such leaves to zero: 32 zero bytes, not the
// hash of a zero block. So padHashes[0] is zero, and a piece layer is padded
// with padHashes[log2(PieceLength/BlockSize)], the root of a whole piece of
// such leaves.
var padHashes = func() (p [64]Hash256) {
	for k := 1; k < len(p); k++ {
		p[k] = hashPair(p[k-1], p[k-1])
	}
	return p
}()

func hashPair(a, b Hash256) Hash256 {
	var buf [2 * HashSizeV2]byte
	copy(buf[:HashSizeV2], a[:])
	copy(buf[HashSizeV2:], b[:])
	return sha256.Sum256(buf[:])
}

// MerkleRoot returns the root of a BEP 52 merkle tree given one of its
// layers: hashes, each the root of a subtree of span leaves (1 for block
// hashes, PieceLength/BlockSize for a piece layer). The layer is padded to a
// power of two with roots of subtrees past the end of the file. span must
// be a power of two; no hashes give the zero hash.
func MerkleRoot(hashes []Hash256, span int64) Hash256 {
	if len(hashes) == 0 {
		return Hash256{}
	}
	return reduce(append([]Hash256(nil), hashes...), log2(span))
}

// BlocksRoot hashes data in 16 KiB blocks and returns the root of the tree
// over them with the given number of leaves, a power of two no smaller than
// the number of blocks; zero leaves means the least power of two that
// holds them. The pieces root of a file no longer than a piece is
// BlocksRoot(file, 0); the piece layer hash of a piece is
// BlocksRoot(piece, PieceLength/BlockSize), where piece holds only the
// file's bytes, never padding.
func BlocksRoot(data []byte, leaves int64) Hash256 {
	hashes := blockHashes(nil, data)
	if len(hashes) == 0 {
		return Hash256{}
	}
	if leaves != 0 && (leaves < int64(len(hashes)) || bits.OnesCount64(uint64(leaves)) != 1) {
		panic(fmt.Sprintf("metainfo: BlocksRoot: %d leaves cannot hold %d blocks", leaves, len(hashes)))
	}
	root, level := reduceLeaves(hashes)
	if leaves == 0 {
		return root
	}
	return extend(root, level, log2(leaves))
}

// blockHashes appends the SHA-256 of each 16 KiB block of data to dst.
func blockHashes(dst []Hash256, data []byte) []Hash256 {
	for len(data) > 0 {
		n := min(len(data), BlockSize)
		dst = append(dst, sha256.Sum256(data[:n]))
		data = data[n:]
	}
	return dst
}

// reduceLeaves returns the root of the smallest tree that holds the leaf
// hashes and its height (log2 of its leaf count). It overwrites leaves.
func reduceLeaves(leaves []Hash256) (Hash256, int) {
	height := bits.Len(uint(len(leaves) - 1))
	return reduce(leaves, 0), height
}

// reduce combines a layer of nodes that are each the root of 2^level
// leaves into the root of the tree, in place. A missing right sibling is
// the root of a subtree past the end of the file.
func reduce(layer []Hash256, level int) Hash256 {
	for len(layer) > 1 {
		if len(layer)%2 == 1 {
			layer = append(layer, padHashes[level])
		}
		for i := range len(layer) / 2 {
			layer[i] = hashPair(layer[2*i], layer[2*i+1])
		}
		layer = layer[:len(layer)/2]
		level++
	}
	return layer[0]
}

// extend grows the root of a tree of 2^from leaves, the left-most part of
// a larger tree whose other leaves all lie past the end of the file, into
// the root of that tree of 2^to leaves.
func extend(root Hash256, from, to int) Hash256 {
	for k := from; k < to; k++ {
		root = hashPair(root, padHashes[k])
	}
	return root
}

// log2 returns the base-2 logarithm of n, a power of two.
func log2(n int64) int {
	if n <= 0 || bits.OnesCount64(uint64(n)) != 1 {
		panic(fmt.Sprintf("metainfo: %d is not a power of two", n))
	}
	return bits.TrailingZeros64(uint64(n))
}
