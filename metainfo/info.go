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
type Info struct {
	// Name is the file's name (single-file torrent) or the top folder's
	// name (multi-file torrent).
	Name string
	// PieceLength is the size of every piece but the last.
	PieceLength int64
	// Pieces is the concatenated SHA-1 hashes of the pieces.
	Pieces []byte
	// Private marks a BEP 27 private torrent: peers only from its trackers.
	Private bool
	// Source is an arbitrary string some private trackers require, put in
	// the info dictionary so it changes the info hash.
	Source string
	// Length is the size of a single-file torrent's file; zero when Files
	// is set.
	Length int64
	// Files lists a multi-file torrent's files in torrent order; nil for a
	// single-file torrent.
	Files []File
}

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
func (in *Info) IsMultiFile() bool { return len(in.Files) > 0 }

// FileList returns the torrent's files in order; a single-file torrent has
// one entry with an empty Path.
func (in *Info) FileList() []File {
	if in.IsMultiFile() {
		return in.Files
	}
	return []File{{Length: in.Length}}
}

// TotalLength returns the size of all the torrent's data, padding included.
func (in *Info) TotalLength() int64 {
	if !in.IsMultiFile() {
		return in.Length
	}
	var n int64
	for _, f := range in.Files {
		n += f.Length
	}
	return n
}

// NumPieces returns the number of pieces.
func (in *Info) NumPieces() int { return len(in.Pieces) / HashSize }

// PieceHash returns the SHA-1 hash piece i must have.
func (in *Info) PieceHash(i int) [HashSize]byte {
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
	if v, err = required("pieces"); err != nil {
		return in, err
	}
	pieces, err := decodeString("info.pieces", v)
	if err != nil {
		return in, err
	}
	in.Pieces = []byte(pieces)
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
	Files       []fileDict `bencode:"files,omitempty"`
	Length      int64      `bencode:"length,omitempty"`
	Name        string     `bencode:"name"`
	PieceLength int64      `bencode:"piece length"`
	Pieces      string     `bencode:"pieces"`
	Private     int64      `bencode:"private,omitempty"`
	Source      string     `bencode:"source,omitempty"`
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
