package metainfo

import "crypto/sha1"

// PieceChecker checks one piece at a time against the hashes of a torrent
// of any version, for a seeder that reads pieces itself (Verify hashes a
// whole folder). A piece is given as FileList lays it out: padding as
// zeros. A v1 piece must match its SHA-1 hash, a v2 piece its piece layer
// hash (or its file's pieces root, for a file of one piece), a hybrid
// piece both. It is safe for concurrent use.
type PieceChecker struct {
	info   *Info
	layers PieceLayers
	// file maps a piece to the index of its file in info.FileTree; nil
	// for a v1 torrent.
	file []int32
}

// NewPieceChecker returns a checker for info, whose piece layers (needed
// by v2 and hybrid torrents) must match its file tree.
func NewPieceChecker(info *Info, layers PieceLayers) (*PieceChecker, error) {
	c := &PieceChecker{info: info, layers: layers}
	if !info.HasV2() {
		return c, nil
	}
	if layers == nil {
		layers = PieceLayers{}
	}
	if err := layers.check(info); err != nil {
		return nil, err
	}
	c.file = make([]int32, info.NumPieces())
	for i, f := range info.FileTree {
		first := f.FirstPiece(info.PieceLength)
		for p := range f.NumPieces(info.PieceLength) {
			c.file[first+p] = int32(i)
		}
	}
	return c, nil
}

// Check reports whether piece i, whose bytes are piece (its full length,
// padding included), matches the torrent's hashes.
func (c *PieceChecker) Check(i int, piece []byte) bool {
	info := c.info
	if i < 0 || i >= info.NumPieces() || int64(len(piece)) != info.PieceSize(i) {
		return false
	}
	if info.HasV1() && sha1.Sum(piece) != info.PieceHash(i) {
		return false
	}
	if c.file == nil {
		return true
	}
	f := info.FileTree[c.file[i]]
	// The file's bytes come first; the rest of the piece is padding,
	// which v2 hashes leave out (BEP 52).
	data := min(int64(len(piece)), f.Offset+f.Length-int64(i)*info.PieceLength)
	if data <= 0 {
		return false
	}
	if !f.HasPieceLayer(info.PieceLength) {
		return BlocksRoot(piece[:data], 0) == f.PiecesRoot
	}
	want := c.layers[f.PiecesRoot][i-f.FirstPiece(info.PieceLength)]
	return BlocksRoot(piece[:data], info.PieceLength/BlockSize) == want
}
