package metainfo

import (
	"fmt"
	"slices"
	"strings"
)

// PieceLayers holds a v2 torrent's BEP 52 piece layers, which sit beside
// the info dictionary, not in it: for every file of the file tree longer
// than one piece, keyed by the file's pieces root, the SHA-256 hashes of
// its pieces in order. Each is the root of the merkle subtree over the
// piece's PieceLength/BlockSize blocks, the last piece's padded with zero
// leaves. A file no longer than a piece has no entry: its pieces root is
// the hash of its only piece, over as many leaves as it has blocks rounded
// up to a power of two. Files with the same data share an entry.
//
// A seeder answers BEP 52 hash requests from them; a v2 peer that joined
// by magnet link has only the info dictionary and asks for them.
type PieceLayers map[Hash256][]Hash256

func layerField(root Hash256) string { return fmt.Sprintf("piece layers[%s]", root) }

// parsePieceLayers reads the top-level `piece layers` dictionary.
func parsePieceLayers(raw []byte) (PieceLayers, error) {
	d, err := decodeDict("piece layers", raw)
	if err != nil {
		return nil, err
	}
	layers := make(PieceLayers, len(d))
	for k, v := range d {
		if len(k) != HashSizeV2 {
			return nil, fieldErr("piece layers", "key of %d bytes, want a %d-byte pieces root", len(k), HashSizeV2)
		}
		root := Hash256([]byte(k))
		s, err := decodeString(layerField(root), v)
		if err != nil {
			return nil, err
		}
		if len(s) == 0 || len(s)%HashSizeV2 != 0 {
			return nil, fieldErr(layerField(root), "%d bytes, not a positive multiple of %d", len(s), HashSizeV2)
		}
		layer := make([]Hash256, len(s)/HashSizeV2)
		for i := range layer {
			layer[i] = Hash256([]byte(s[i*HashSizeV2 : (i+1)*HashSizeV2]))
		}
		layers[root] = layer
	}
	return layers, nil
}

// check verifies that the layers are exactly those info's file tree needs:
// one for each file longer than a piece, with one hash per piece, whose
// merkle root is the file's pieces root; and no others.
func (l PieceLayers) check(info *Info) error {
	span := info.PieceLength / BlockSize
	needed := make(map[Hash256]bool)
	for _, f := range info.FileTree {
		if !f.HasPieceLayer(info.PieceLength) || needed[f.PiecesRoot] {
			continue
		}
		needed[f.PiecesRoot] = true
		name := strings.Join(append([]string{info.Name}, f.Path...), "/")
		layer, ok := l[f.PiecesRoot]
		if !ok {
			return fieldErr(layerField(f.PiecesRoot), "missing for %q (%d bytes, more than one piece)", name, f.Length)
		}
		if n := f.NumPieces(info.PieceLength); len(layer) != n {
			return fieldErr(layerField(f.PiecesRoot), "%d hashes, but %q (%d bytes) has %d pieces", len(layer), name, f.Length, n)
		}
		if MerkleRoot(layer, span) != f.PiecesRoot {
			return fieldErr(layerField(f.PiecesRoot), "the hashes do not have %q's pieces root as their merkle root", name)
		}
	}
	if len(l) > len(needed) {
		extra := make([]Hash256, 0, len(l)-len(needed))
		for root := range l {
			if !needed[root] {
				extra = append(extra, root)
			}
		}
		slices.SortFunc(extra, func(a, b Hash256) int { return strings.Compare(string(a[:]), string(b[:])) })
		return fieldErr(layerField(extra[0]), "not the pieces root of any file longer than a piece")
	}
	return nil
}

// dict returns the layers as the `piece layers` dictionary.
func (l PieceLayers) dict() map[string]string {
	d := make(map[string]string, len(l))
	for root, layer := range l {
		b := make([]byte, 0, len(layer)*HashSizeV2)
		for _, h := range layer {
			b = append(b, h[:]...)
		}
		d[string(root[:])] = string(b)
	}
	return d
}
