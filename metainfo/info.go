package metainfo

import (
	"crypto/sha1"
	"fmt"
	"math"
	"math/bits"
	"path/filepath"
	"slices"
	"strings"

	bencode "github.com/jackpal/bencode-go"
)

// Piece length bounds. BEP 52 sets the 16 KiB floor (one block); the ceiling
// is mktorrent's and keeps a hostile torrent from making a verifier or
// seeder allocate a gigantic piece buffer.
const (
	MinPieceLength = 16 << 10
	MaxPieceLength = 256 << 20
)

// HashSize is the size of a SHA-1 piece hash and of a v1 info hash.
const HashSize = sha1.Size

// Info is a torrent's info dictionary: what the info hash identifies.
//
// A v1 torrent (BEP 3) describes its files in Length or Files and its data
// in Pieces, SHA-1 hashes of pieces that can span files. A v2 torrent
// (BEP 52) describes them in FileTree, each file's data by the root of a
// merkle tree of SHA-256 hashes, every file starting a new piece; the
// piece hashes themselves are in the torrent's PieceLayers, outside the
// info dictionary. A hybrid torrent has both, describing the same pieces:
// its v1 Files hold BEP 47 padding files so that every file starts a piece
// there too. Version tells which a torrent is.
type Info struct {
	// Name is the file's name (single-file torrent) or the top folder's
	// name (multi-file torrent).
	Name string
	// PieceLength is the size of every piece but the last.
	PieceLength int64
	// Pieces is the concatenated SHA-1 hashes of the pieces; nil for a
	// v2-only torrent.
	Pieces []byte
	// Private marks a BEP 27 private torrent: peers only from its trackers.
	Private bool
	// Source is an arbitrary string some private trackers require, put in
	// the info dictionary so it changes the info hash.
	Source string
	// Length is the size of a single-file torrent's file; zero when Files
	// is set, and in a v2-only torrent.
	Length int64
	// Files lists a multi-file torrent's files in torrent order; nil for a
	// single-file torrent and for a v2-only torrent (see FileList).
	Files []File
	// FileTree lists the files of the BEP 52 file tree of a v2 or hybrid
	// torrent in tree order (depth first, names in byte order), which is
	// the order of their data; nil for a v1 torrent. Writing the info
	// dictionary writes `meta version` 2 when it is set.
	FileTree []TreeFile
}

// Version says which versions of the BitTorrent protocol a torrent is for.
type Version int

// The versions. The zero value is V1.
const (
	// V1 is a BEP 3 torrent: SHA-1 piece hashes. Every client reads it.
	V1 Version = iota
	// V2 is a BEP 52 torrent: a file tree and SHA-256 merkle trees, and
	// no v1 fields. Only v2 clients (libtorrent 2) read it.
	V2
	// Hybrid has both, for the same pieces, and is in two swarms: v1
	// peers join it by its v1 info hash, v2 peers by its v2 one.
	Hybrid
)

func (v Version) String() string {
	switch v {
	case V1:
		return "v1"
	case V2:
		return "v2"
	case Hybrid:
		return "hybrid"
	}
	return fmt.Sprintf("Version(%d)", int(v))
}

// Version tells which protocol versions the torrent is for: V1 without a
// file tree, V2 with only a file tree, Hybrid with both.
func (in *Info) Version() Version {
	switch {
	case in.FileTree == nil:
		return V1
	case in.Length != 0 || in.Files != nil:
		return Hybrid
	}
	return V2
}

// HasV1 reports whether the torrent has v1 fields (V1 or Hybrid): SHA-1
// piece hashes and a v1 info hash.
func (in *Info) HasV1() bool { return in.Version() != V2 }

// HasV2 reports whether the torrent has a BEP 52 file tree (V2 or Hybrid):
// merkle roots and a v2 info hash.
func (in *Info) HasV2() bool { return in.FileTree != nil }

// File is one file of a torrent.
type File struct {
	// Path is the file's path below the torrent's Name, one element per
	// component; empty for a single-file torrent.
	Path []string
	// Length is the file's size in bytes.
	Length int64
	// Offset is where the file starts in the torrent's concatenated data.
	// Parse and Create fill it in.
	Offset int64
	// Attr holds BEP 47 attributes: 'p' marks a padding file, 'x' an
	// executable, 'h' a hidden file, 'l' a symbolic link.
	Attr string
}

// IsPadding reports whether the file is a BEP 47 padding file: zeros that
// align the next file to a piece boundary and are never written to disk.
func (f File) IsPadding() bool { return strings.Contains(f.Attr, "p") }

// IsMultiFile reports whether the torrent is a folder of files rather than
// a single file.
func (in *Info) IsMultiFile() bool {
	if in.HasV1() {
		return len(in.Files) > 0
	}
	return len(in.FileTree) > 1 || len(in.FileTree) == 1 && len(in.FileTree[0].Path) > 0
}

// FileList returns the torrent's files in order, padding included; a
// single-file torrent has one entry with an empty Path. This is the layout
// of the torrent's pieces, in every version: a v1 or hybrid torrent's
// Files, and for a v2-only torrent its FileTree with a padding file before
// each file whose data would not start a piece and after the last one, as
// libtorrent lays it out (so a single-file v2 torrent may have a padding
// entry after its file). Padding files (IsPadding) are zeros, never on
// disk.
func (in *Info) FileList() []File {
	switch {
	case !in.HasV1():
		return in.v2OnlyLayout()
	case in.IsMultiFile():
		return in.Files
	}
	return []File{{Length: in.Length}}
}

// TotalLength returns the size of all the torrent's data, padding included.
func (in *Info) TotalLength() int64 {
	switch {
	case !in.HasV1():
		return in.v2Length()
	case !in.IsMultiFile():
		return in.Length
	}
	var n int64
	for _, f := range in.Files {
		n += f.Length
	}
	return n
}

// NumPieces returns the number of pieces. A hybrid torrent has as many v1
// pieces as v2 ones.
func (in *Info) NumPieces() int {
	if in.HasV1() {
		return len(in.Pieces) / HashSize
	}
	var n int
	for _, f := range in.FileTree {
		n += f.NumPieces(in.PieceLength)
	}
	return n
}

// PieceHash returns the SHA-1 hash piece i must have. A v2-only torrent has
// none: it returns the zero hash, which no piece has, so a v1 verifier
// finds every piece bad rather than crashing.
func (in *Info) PieceHash(i int) [HashSize]byte {
	if (i+1)*HashSize > len(in.Pieces) {
		return [HashSize]byte{}
	}
	return [HashSize]byte(in.Pieces[i*HashSize : (i+1)*HashSize])
}

// PieceSize returns the length of piece i; only the last one can be short.
func (in *Info) PieceSize(i int) int64 {
	if i == in.NumPieces()-1 {
		if r := in.TotalLength() % in.PieceLength; r != 0 {
			return r
		}
	}
	return in.PieceLength
}

// FilePath returns where file f of the torrent lives below root, the folder
// that holds the torrent's Name (a client's download folder).
func (in *Info) FilePath(root string, f File) string {
	return filepath.Join(append([]string{root, in.Name}, f.Path...)...)
}

func parseInfo(raw []byte) (Info, error) {
	var in Info
	d, err := decodeDict("info", raw)
	if err != nil {
		return in, err
	}
	required := func(key string) (bencode.RawMessage, error) {
		v, ok := d[key]
		if !ok {
			return nil, fieldErr("info."+key, "missing")
		}
		return v, nil
	}

	v, err := required("name")
	if err != nil {
		return in, err
	}
	if in.Name, err = decodeString("info.name", v); err != nil {
		return in, err
	}
	if v, err = required("piece length"); err != nil {
		return in, err
	}
	if in.PieceLength, err = decodeInt("info.piece length", v); err != nil {
		return in, err
	}
	if err := in.parseV2(d); err != nil {
		return in, err
	}
	pieces, hasPieces := d["pieces"]
	if hasPieces {
		s, err := decodeString("info.pieces", pieces)
		if err != nil {
			return in, err
		}
		in.Pieces = []byte(s)
	} else if in.FileTree == nil {
		return in, fieldErr("info.pieces", "missing")
	}
	if v, ok := d["private"]; ok {
		n, err := decodeInt("info.private", v)
		if err != nil {
			return in, err
		}
		if n != 0 && n != 1 {
			return in, fieldErr("info.private", "want 0 or 1, got %d", n)
		}
		in.Private = n == 1
	}
	if v, ok := d["source"]; ok {
		if in.Source, err = decodeString("info.source", v); err != nil {
			return in, err
		}
	}

	length, hasLength := d["length"]
	files, hasFiles := d["files"]
	switch {
	case in.FileTree != nil && !hasPieces && (hasLength || hasFiles):
		return in, fieldErr("info.pieces", "missing, but v1 files are given (a hybrid torrent needs both)")
	case in.FileTree != nil && hasPieces && !hasLength && !hasFiles:
		return in, fieldErr("info.pieces", "present without info.length or info.files")
	case in.FileTree != nil && !hasPieces:
		// v2 only.
	case hasLength && hasFiles:
		return in, fieldErr("info.files", "present together with info.length")
	case hasLength:
		if in.Length, err = decodeInt("info.length", length); err != nil {
			return in, err
		}
	case hasFiles:
		if in.Files, err = parseFiles(files); err != nil {
			return in, err
		}
	default:
		return in, fieldErr("info.length", "missing, and no info.files either")
	}
	return in, in.validate()
}

func parseFiles(raw []byte) ([]File, error) {
	list, err := decodeList("info.files", raw)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fieldErr("info.files", "empty list")
	}
	files := make([]File, len(list))
	for i, e := range list {
		field := fmt.Sprintf("info.files[%d]", i)
		d, err := decodeDict(field, e)
		if err != nil {
			return nil, err
		}
		v, ok := d["length"]
		if !ok {
			return nil, fieldErr(field+".length", "missing")
		}
		if files[i].Length, err = decodeInt(field+".length", v); err != nil {
			return nil, err
		}
		if v, ok = d["path"]; !ok {
			return nil, fieldErr(field+".path", "missing")
		}
		if files[i].Path, err = decodeStrings(field+".path", v); err != nil {
			return nil, err
		}
		if v, ok = d["attr"]; ok {
			if files[i].Attr, err = decodeString(field+".attr", v); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// validate checks everything a parsed or hand-built Info must satisfy and
// fills in the files' offsets.
func (in *Info) validate() error {
	if err := checkComponent("info.name", in.Name); err != nil {
		return err
	}
	if err := checkPieceLength("info.piece length", in.PieceLength); err != nil {
		return err
	}
	var v2Pieces int64
	if in.FileTree != nil {
		var err error
		if v2Pieces, err = in.checkTree(); err != nil {
			return err
		}
	}
	if !in.HasV1() {
		if in.Pieces != nil {
			return fieldErr("info.pieces", "present without info.length or info.files")
		}
		return nil
	}
	if len(in.Pieces)%HashSize != 0 {
		return fieldErr("info.pieces", "length %d is not a multiple of %d", len(in.Pieces), HashSize)
	}
	total, err := in.checkLayout()
	if err != nil {
		return err
	}
	// Division first: total+PieceLength-1 could overflow.
	want := total / in.PieceLength
	if total%in.PieceLength != 0 {
		want++
	}
	if got := int64(in.NumPieces()); got != want {
		return fieldErr("info.pieces", "%d hashes, but %d bytes in %d-byte pieces need %d", got, total, in.PieceLength, want)
	}
	if in.FileTree != nil {
		return in.checkHybrid(v2Pieces)
	}
	return nil
}

// checkLayout validates lengths and paths and returns the total length.
func (in *Info) checkLayout() (int64, error) {
	if !in.IsMultiFile() {
		if in.Files != nil {
			return 0, fieldErr("info.files", "empty list")
		}
		if in.Length <= 0 {
			return 0, fieldErr("info.length", "must be positive, got %d", in.Length)
		}
		return in.Length, nil
	}
	if in.Length != 0 {
		return 0, fieldErr("info.files", "present together with info.length")
	}
	var total int64
	// Paths in use, to refuse two files at one path and a file where
	// another file needs a folder: either would make the data ambiguous.
	kinds := make(map[string]bool) // joined path -> is a file
	for i := range in.Files {
		f := &in.Files[i]
		field := fmt.Sprintf("info.files[%d]", i)
		// Zero-length files are legitimate in a folder (mktorrent and
		// libtorrent keep empty files); only the total must be positive.
		if f.Length < 0 {
			return 0, fieldErr(field+".length", "must not be negative, got %d", f.Length)
		}
		if total > math.MaxInt64-f.Length {
			return 0, fieldErr(field+".length", "total length overflows int64")
		}
		f.Offset = total
		total += f.Length
		if len(f.Path) == 0 {
			return 0, fieldErr(field+".path", "empty list")
		}
		for j, c := range f.Path {
			if err := checkComponent(fmt.Sprintf("%s.path[%d]", field, j), c); err != nil {
				return 0, err
			}
		}
		if f.IsPadding() {
			// Padding is never on disk; libtorrent names every padding
			// file of one size alike.
			continue
		}
		for j := 1; j <= len(f.Path); j++ {
			p := strings.Join(f.Path[:j], "/")
			isFile := j == len(f.Path)
			if was, seen := kinds[p]; seen && (isFile || was) {
				return 0, fieldErr(field+".path", "%q is already used by another file", p)
			}
			kinds[p] = isFile
		}
	}
	if total == 0 {
		return 0, fieldErr("info.files", "total length is zero")
	}
	return total, nil
}

// checkComponent refuses names that would let a torrent reach outside its
// folder, or that no file system can store.
func checkComponent(field, c string) error {
	switch {
	case c == "":
		return fieldErr(field, "empty path component")
	case c == "." || c == "..":
		return fieldErr(field, "path component %q", c)
	case strings.HasPrefix(c, "/") || filepath.IsAbs(c):
		return fieldErr(field, "absolute path %q", c)
	case strings.ContainsAny(c, `/\`):
		return fieldErr(field, "path component %q contains a path separator", c)
	case strings.IndexByte(c, 0) >= 0:
		return fieldErr(field, "path component %q contains NUL", c)
	}
	return nil
}

func checkPieceLength(field string, n int64) error {
	switch {
	case n < MinPieceLength:
		return fieldErr(field, "%d is under the 16 KiB minimum", n)
	case n > MaxPieceLength:
		return fieldErr(field, "%d is over the 256 MiB maximum", n)
	case bits.OnesCount64(uint64(n)) != 1:
		return fieldErr(field, "%d is not a power of two", n)
	}
	return nil
}

// infoDict is the info dictionary as SetInfo writes it. The encoder sorts
// keys, so field order here does not matter.
type infoDict struct {
	FileTree    map[string]any `bencode:"file tree,omitempty"`
	Files       []fileDict     `bencode:"files,omitempty"`
	Length      int64          `bencode:"length,omitempty"`
	MetaVersion int64          `bencode:"meta version,omitempty"`
	Name        string         `bencode:"name"`
	PieceLength int64          `bencode:"piece length"`
	Pieces      string         `bencode:"pieces,omitempty"`
	Private     int64          `bencode:"private,omitempty"`
	Source      string         `bencode:"source,omitempty"`
}

type fileDict struct {
	Attr   string   `bencode:"attr,omitempty"`
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

func (in *Info) dict() infoDict {
	d := infoDict{
		Length:      in.Length,
		Name:        in.Name,
		PieceLength: in.PieceLength,
		Pieces:      string(in.Pieces),
		Source:      in.Source,
	}
	if in.Private {
		d.Private = 1
	}
	for _, f := range in.Files {
		d.Files = append(d.Files, fileDict{Attr: f.Attr, Length: f.Length, Path: f.Path})
	}
	if in.FileTree != nil {
		d.MetaVersion = 2
		d.FileTree = in.treeDict()
	}
	return d
}

// sortFiles puts files in the order Create writes them, so a folder's files
// come out the same on every machine: bytewise by "/"-joined path, as
// mktorrent does, so both give the same info hash for the same data and
// piece length.
func sortFiles(files []File) {
	slices.SortFunc(files, func(a, b File) int {
		return strings.Compare(strings.Join(a.Path, "/"), strings.Join(b.Path, "/"))
	})
}

// parseV2 reads the BEP 52 keys of an info dictionary: `meta version` 2
// and `file tree` come together or not at all.
func (in *Info) parseV2(d map[string]bencode.RawMessage) error {
	mv, hasVersion := d["meta version"]
	tree, hasTree := d["file tree"]
	switch {
	case !hasVersion && !hasTree:
		return nil
	case !hasVersion:
		return fieldErr("info.meta version", "missing, but info.file tree is present")
	}
	n, err := decodeInt("info.meta version", mv)
	if err != nil {
		return err
	}
	if n != 2 {
		return fieldErr("info.meta version", "%d is not supported (BEP 52 defines 2)", n)
	}
	if !hasTree {
		return fieldErr("info.file tree", "missing (info.meta version is 2)")
	}
	in.FileTree, err = parseFileTree(tree, in.Name)
	return err
}
