package metainfo

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	bencode "github.com/jackpal/bencode-go"
)

// TreeFile is one file of a BEP 52 file tree, the v2 description of a
// torrent's files.
type TreeFile struct {
	// Path is the file's path below the torrent's Name, one element per
	// component; empty for a single-file torrent, whose file is Name.
	Path []string
	// Length is the file's size in bytes.
	Length int64
	// PiecesRoot is the root of the merkle tree over the file's 16 KiB
	// blocks; zero for an empty file, which has none.
	PiecesRoot Hash256
	// Attr holds BEP 47 attributes ('x' executable, 'h' hidden); never
	// 'p': a file tree has no padding files.
	Attr string
	// Offset is where the file starts in the torrent's piece-aligned data,
	// in which every file with data starts a new piece (v2 piece indices
	// count from the torrent's first file). It is a multiple of the piece
	// length. Parse and Create fill it in.
	Offset int64
}

// NumPieces returns the number of pieces the file occupies: its length in
// pieceLength pieces, the last one possibly short. An empty file has none.
func (f TreeFile) NumPieces(pieceLength int64) int { return int(ceilDiv(f.Length, pieceLength)) }

// FirstPiece returns the index of the file's first piece.
func (f TreeFile) FirstPiece(pieceLength int64) int { return int(f.Offset / pieceLength) }

// HasPieceLayer reports whether the torrent's piece layers hold the file's
// piece hashes: only files longer than one piece have a piece layer; the
// pieces root of any other file is the hash of its only piece (BEP 52).
func (f TreeFile) HasPieceLayer(pieceLength int64) bool { return f.Length > pieceLength }

// treeField names a node of the file tree in error messages, such as
// info.file tree["docs"]["a.txt"].
func treeField(path []string) string {
	var b strings.Builder
	b.WriteString("info.file tree")
	for _, c := range path {
		fmt.Fprintf(&b, "[%q]", c)
	}
	return b.String()
}

// parseFileTree reads a file tree, decoding it once into generic values:
// decoding directory by directory as raw messages would re-read each
// subtree once per level above it.
func parseFileTree(raw []byte, name string) ([]TreeFile, error) {
	const field = "info.file tree"
	if k := kind(raw); k != "dictionary" {
		return nil, fieldErr(field, "want dictionary, got %s", k)
	}
	br := bufio.NewReaderSize(bytes.NewReader(raw), min(max(len(raw), 64), 4096))
	v, err := bencode.NewDecoderWithOptions(br, decodeOptions(len(raw))).Decode()
	if err != nil {
		return nil, &FieldError{Field: field, Err: err}
	}
	root := v.(map[string]any)
	if len(root) == 0 {
		return nil, fieldErr(field, "empty")
	}
	var files []TreeFile
	if err := walkTree(root, nil, &files); err != nil {
		return nil, err
	}
	// One file at the top is a single-file torrent (so libtorrent reads
	// it), whose file must be the one the info dictionary names: libtorrent
	// would take the tree's name, other programs info.name.
	if len(files) == 1 && len(files[0].Path) == 1 {
		if files[0].Path[0] != name {
			return nil, fieldErr(treeField(files[0].Path), "the only file is not named %q as info.name says", name)
		}
		files[0].Path = nil
	}
	return files, nil
}

// walkTree appends the files below node, in key order, to files.
func walkTree(node map[string]any, path []string, files *[]TreeFile) error {
	if leaf, ok := node[""]; ok {
		if len(path) == 0 {
			return fieldErr(treeField(path), "the top of the tree is a file, not a folder")
		}
		if len(node) != 1 {
			return fieldErr(treeField(path), "a file (key \"\") that is also a folder")
		}
		f, err := parseTreeFile(leaf, path)
		if err != nil {
			return err
		}
		*files = append(*files, f)
		return nil
	}
	if len(node) == 0 {
		return fieldErr(treeField(path), "empty folder")
	}
	keys := make([]string, 0, len(node))
	for k := range node {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := append(path[:len(path):len(path)], k)
		if err := checkComponent(treeField(p), k); err != nil {
			return err
		}
		child, ok := node[k].(map[string]any)
		if !ok {
			return fieldErr(treeField(p), "want dictionary, got %s", genericKind(node[k]))
		}
		if err := walkTree(child, p, files); err != nil {
			return err
		}
	}
	return nil
}

// parseTreeFile reads the dictionary under a file's "" key.
func parseTreeFile(v any, path []string) (TreeFile, error) {
	f := TreeFile{Path: path}
	field := treeField(path) + `[""]`
	d, ok := v.(map[string]any)
	if !ok {
		return f, fieldErr(field, "want dictionary, got %s", genericKind(v))
	}
	n, ok := d["length"].(int64)
	switch {
	case d["length"] == nil:
		return f, fieldErr(field+".length", "missing")
	case !ok:
		return f, fieldErr(field+".length", "want integer, got %s", genericKind(d["length"]))
	case n < 0:
		return f, fieldErr(field+".length", "must not be negative, got %d", n)
	}
	f.Length = n
	root, hasRoot := d["pieces root"]
	switch s, ok := root.(string); {
	case !hasRoot && n > 0:
		return f, fieldErr(field+".pieces root", "missing")
	case hasRoot && n == 0:
		return f, fieldErr(field+".pieces root", "present for an empty file")
	case hasRoot && !ok:
		return f, fieldErr(field+".pieces root", "want string, got %s", genericKind(root))
	case hasRoot && len(s) != HashSizeV2:
		return f, fieldErr(field+".pieces root", "%d bytes, want %d", len(s), HashSizeV2)
	case hasRoot:
		f.PiecesRoot = Hash256([]byte(s))
	}
	if a, ok := d["attr"]; ok {
		if f.Attr, ok = a.(string); !ok {
			return f, fieldErr(field+".attr", "want string, got %s", genericKind(a))
		}
	}
	return f, nil
}

// genericKind names the type of a generically decoded value.
func genericKind(v any) string {
	switch v.(type) {
	case int64:
		return "integer"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "dictionary"
	}
	return fmt.Sprintf("%T", v)
}

// checkTree validates a file tree and fills in the files' offsets; it
// returns the number of pieces the tree's files occupy. Files must be in
// tree order, so that encoding the tree and parsing it gives them back.
func (in *Info) checkTree() (int64, error) {
	if len(in.FileTree) == 0 {
		return 0, fieldErr("info.file tree", "empty")
	}
	var pieces, data int64
	for i := range in.FileTree {
		f := &in.FileTree[i]
		field := treeField(f.Path)
		if len(f.Path) == 0 && len(in.FileTree) > 1 {
			return 0, fieldErr(field, "a file without a path in a tree of %d files", len(in.FileTree))
		}
		for _, c := range f.Path {
			if err := checkComponent(field, c); err != nil {
				return 0, err
			}
		}
		if i > 0 {
			prev := in.FileTree[i-1].Path
			switch {
			case slices.Compare(prev, f.Path) >= 0:
				return 0, fieldErr(field, "out of tree order (after %q) or given twice", strings.Join(prev, "/"))
			case len(prev) < len(f.Path) && slices.Equal(prev, f.Path[:len(prev)]):
				return 0, fieldErr(field, "below %q, which is a file", strings.Join(prev, "/"))
			}
		}
		switch {
		case f.Length < 0:
			return 0, fieldErr(field+".length", "must not be negative, got %d", f.Length)
		case f.Length > 0 && f.PiecesRoot == Hash256{}:
			return 0, fieldErr(field+".pieces root", "missing or zero")
		case f.Length == 0 && f.PiecesRoot != Hash256{}:
			return 0, fieldErr(field+".pieces root", "present for an empty file")
		case strings.Contains(f.Attr, "p"):
			return 0, fieldErr(field+".attr", "a padding file in a file tree")
		}
		n := int64(f.NumPieces(in.PieceLength))
		// Every file starts a piece, so the data the pieces cover, not
		// only the files' lengths, must fit in an int64.
		if pieces > math.MaxInt64/in.PieceLength-n || data > math.MaxInt64-f.Length {
			return 0, fieldErr(field+".length", "total length overflows int64")
		}
		f.Offset = pieces * in.PieceLength
		pieces += n
		data += f.Length
	}
	if pieces == 0 {
		return 0, fieldErr("info.file tree", "total length is zero")
	}
	return pieces, nil
}

// treeDict returns the file tree as nested dictionaries for encoding.
func (in *Info) treeDict() map[string]any {
	root := map[string]any{}
	for _, f := range in.FileTree {
		path := f.Path
		if len(path) == 0 {
			path = []string{in.Name}
		}
		dir := root
		for _, c := range path[:len(path)-1] {
			sub, ok := dir[c].(map[string]any)
			if !ok {
				sub = map[string]any{}
				dir[c] = sub
			}
			dir = sub
		}
		leaf := map[string]any{"length": f.Length}
		if f.Length > 0 {
			leaf["pieces root"] = string(f.PiecesRoot[:])
		}
		if f.Attr != "" {
			leaf["attr"] = f.Attr
		}
		dir[path[len(path)-1]] = map[string]any{"": leaf}
	}
	return root
}
