package metainfo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// padAttr marks a BEP 47 padding file.
const padAttr = "p"

// v2Layout returns a v2 file tree as a v1 file list: the tree's files in
// order, with a BEP 47 padding file (named .pad/N, as libtorrent names them)
// before each file whose data would not start a piece. It is the file list
// of the hybrid torrents Create makes. It adds no padding after the last
// file, so the last piece can be short, as in v1.
func (in *Info) v2Layout() []File {
	if len(in.FileTree) == 1 && len(in.FileTree[0].Path) == 0 {
		return []File{{Length: in.FileTree[0].Length, Attr: in.FileTree[0].Attr}}
	}
	files := make([]File, 0, 2*len(in.FileTree))
	var off int64
	for _, f := range in.FileTree {
		if r := off % in.PieceLength; f.Length > 0 && r != 0 {
			n := in.PieceLength - r
			files = append(files, File{Path: []string{".pad", strconv.FormatInt(n, 10)}, Length: n, Offset: off, Attr: padAttr})
			off += n
		}
		files = append(files, File{Path: f.Path, Length: f.Length, Offset: off, Attr: f.Attr})
		off += f.Length
	}
	return files
}

// v2OnlyLayout is how a v2-only torrent's pieces map onto its files:
// v2Layout, and padding after the last file up to a piece boundary, so
// that every piece is a full piece. libtorrent 2 lays out v2-only torrents
// so, and asks for the whole first block of a last piece shorter than a
// block (BEP 52 hashes only the file's bytes; the padding is zeros).
func (in *Info) v2OnlyLayout() []File {
	files := in.v2Layout()
	last := files[len(files)-1]
	if r := (last.Offset + last.Length) % in.PieceLength; r != 0 {
		off := last.Offset + last.Length
		n := in.PieceLength - r
		files = append(files, File{Path: []string{".pad", strconv.FormatInt(n, 10)}, Length: n, Offset: off, Attr: padAttr})
	}
	return files
}

// v2Length returns the length of a v2-only torrent's data as v2OnlyLayout
// lays it out, without building the layout: its pieces, all full.
func (in *Info) v2Length() int64 {
	var pieces int64
	for _, f := range in.FileTree {
		pieces += int64(f.NumPieces(in.PieceLength))
	}
	return pieces * in.PieceLength
}

// checkHybrid checks that a hybrid torrent's v1 files describe the data its
// file tree does, with every piece in the same place: the same files in the
// same order with the same lengths and attributes, every file with data
// starting on the piece where the tree puts it (BEP 47 padding fills the
// gaps), and as many v1 pieces as v2 ones. Otherwise a v1 and a v2 peer
// would disagree about what a piece index means. Padding after the last
// file, which libtorrent adds, is allowed.
func (in *Info) checkHybrid(v2Pieces int64) error {
	tree := in.FileTree
	if !in.IsMultiFile() {
		if len(tree) != 1 || len(tree[0].Path) != 0 || tree[0].Length != in.Length {
			return fieldErr("info.file tree", "does not hold the one file of info.length (%d bytes)", in.Length)
		}
		return nil
	}
	if len(tree) == 1 && len(tree[0].Path) == 0 {
		return fieldErr("info.file tree", "a single file, but info.files lists a folder")
	}
	j := 0
	for i, f := range in.Files {
		if f.IsPadding() {
			continue
		}
		field := fmt.Sprintf("info.files[%d]", i)
		name := strings.Join(f.Path, "/")
		if j == len(tree) {
			return fieldErr(field, "%q is not in the file tree", name)
		}
		t := tree[j]
		switch {
		case !slices.Equal(f.Path, t.Path) || f.Length != t.Length:
			return fieldErr(field, "%q (%d bytes) where the file tree has %q (%d bytes)",
				name, f.Length, strings.Join(t.Path, "/"), t.Length)
		case f.Attr != t.Attr:
			return fieldErr(field+".attr", "%q, but %q in the file tree", f.Attr, t.Attr)
		case f.Length > 0 && f.Offset != t.Offset:
			return fieldErr(field, "%q starts at byte %d, not at byte %d where the file tree puts it (BEP 47 padding missing or wrong)",
				name, f.Offset, t.Offset)
		}
		j++
	}
	if j < len(tree) {
		return fieldErr(treeField(tree[j].Path), "not in info.files")
	}
	if n := int64(in.NumPieces()); n != v2Pieces {
		return fieldErr("info.pieces", "%d pieces, but the file tree's files fill %d", n, v2Pieces)
	}
	return nil
}
