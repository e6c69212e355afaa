package metainfo

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bitorigin/bitorigin/internal/version"
)

// Piece lengths Create picks by itself: it aims for 1,000 to 2,000 pieces,
// which keeps the .torrent small and the pieces fine-grained enough to
// share early, within these bounds.
const (
	minAutoPieceLength = 256 << 10
	maxAutoPieceLength = 16 << 20
	maxAutoPieces      = 2000
)

// AutoPieceLength returns the piece length Create uses for total bytes of
// data: the smallest power of two from 256 KiB up to 16 MiB that needs at
// most 2,000 pieces.
func AutoPieceLength(total int64) int64 {
	n := int64(minAutoPieceLength)
	for n < maxAutoPieceLength && ceilDiv(total, n) > maxAutoPieces {
		n *= 2
	}
	return n
}

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}

// CreateOptions are the choices Create leaves to its caller. The zero value
// makes a public v1 torrent without trackers, with an automatic piece
// length.
type CreateOptions struct {
	// Version is V1 (the zero value), V2 or Hybrid. V1 is what every
	// client reads; Transmission 3.00 refuses v2 and hybrid torrents and
	// aria2 1.36 computes a wrong info hash for hybrid ones.
	Version Version
	// Trackers are BEP 12 tiers of announce URLs (http, https or udp).
	// The first URL also becomes `announce`; `announce-list` is written
	// when there is more than one URL.
	Trackers [][]string
	// WebSeeds are BEP 19 web seed URLs (http or https).
	WebSeeds []string
	// PieceLength is a power of two from 16 KiB to 256 MiB; zero picks
	// AutoPieceLength.
	PieceLength int64
	// Private sets the BEP 27 private flag.
	Private bool
	// Source is written into the info dictionary (some private trackers
	// require it); it changes the info hash.
	Source string
	// Comment is free text for people.
	Comment string
	// CreatedBy names the creating program; empty means this project's
	// name and version.
	CreatedBy string
	// CreationDate is written when not zero. Leaving it zero makes the
	// whole file, not only the info hash, depend on the data alone.
	CreationDate time.Time
	// Workers is the number of hashing goroutines; zero means one per core.
	Workers int
	// Progress, when set, is called after each piece with the bytes hashed
	// so far and the total, always from the goroutine that called Create.
	Progress func(done, total int64)
}

// checkUTF8 refuses a name or file path that is not UTF-8, as BEP 3 asks
// names to be. Converting (U+FFFD for the bad bytes) would make a torrent
// whose paths name no file on disk: the seeder could not serve it from the
// folder it was made from, nor verify it. The error asks for a rename.
func checkUTF8(info *Info) error {
	if !utf8.ValidString(info.Name) {
		return fieldErr("info.name", "%q is not valid UTF-8 (BEP 3); rename it", info.Name)
	}
	for _, f := range info.Files {
		for _, c := range f.Path {
			if !utf8.ValidString(c) {
				return fieldErr("info.files", "path %q is not valid UTF-8 (BEP 3); rename it", strings.Join(f.Path, "/"))
			}
		}
	}
	return nil
}

// Create makes a torrent of the file or folder at path. A v1 torrent takes
// a folder's files (symbolic links to files included) in bytewise order of
// their paths, as mktorrent takes them, so the same data always gives the
// same info hash, and the one mktorrent gives with the same piece length.
// A v2 or hybrid torrent takes them in file tree order (component by
// component, as BEP 52's sorted dictionaries have it); a hybrid torrent's
// v1 file list has BEP 47 padding files before each file whose data would
// not start a piece, and none after the last. A name or path that is not
// valid UTF-8 is refused (see checkUTF8).
func Create(ctx context.Context, path string, opts CreateOptions) (*Torrent, error) {
	t, _, err := create(ctx, path, opts, false)
	return t, err
}

// create is Create, and with twin (for a hybrid only) the v1-only twin too,
// hashed from the same read of the data.
func create(ctx context.Context, path string, opts CreateOptions, twin bool) (*Torrent, *Torrent, error) {
	if err := opts.check(); err != nil {
		return nil, nil, err
	}
	info, paths, err := scan(path)
	if err != nil {
		return nil, nil, err
	}
	info.PieceLength = opts.PieceLength
	if info.PieceLength == 0 {
		info.PieceLength = AutoPieceLength(info.TotalLength())
	}
	info.Private = opts.Private
	info.Source = opts.Source
	if opts.Version != V1 {
		paths = info.toTree(paths, opts.Version)
	}
	// Catch names this package would refuse before spending time hashing.
	if err := checkComponent("info.name", info.Name); err != nil {
		return nil, nil, err
	}
	// The layout of the pieces, as a v1 torrent: padding included.
	layout := Info{Name: info.Name, PieceLength: info.PieceLength}
	if info.IsMultiFile() {
		layout.Files = info.FileList()
	} else {
		layout.Length = info.FileList()[0].Length // without a v2-only torrent's padding
	}
	if err := checkUTF8(&layout); err != nil {
		return nil, nil, err
	}
	if _, err := layout.checkLayout(); err != nil {
		return nil, nil, err
	}

	files := layout.FileList()
	regions := make([]region, len(files))
	next := 0 // of paths, which has no padding
	for i, f := range files {
		regions[i] = region{length: f.Length, padding: f.IsPadding()}
		if !f.IsPadding() {
			regions[i].path = paths[next]
			next++
		}
	}
	h := &hashRun{
		regions:     regions,
		pieceLength: info.PieceLength,
		total:       layout.TotalLength(),
		workers:     opts.Workers,
		strict:      true,
		progress:    opts.Progress,
		v1:          opts.Version != V2,
		v2:          opts.Version != V1,
		// Without padding the twin's pieces are the hybrid's.
		twin: twin && hasPadding(files),
	}
	// Parse refuses files over MaxSize, so never write one.
	perPiece := int64(0)
	if h.v1 {
		perPiece += HashSize
	}
	if h.v2 {
		perPiece += HashSizeV2
	}
	if n := int64(h.numPieces()) * perPiece; n > MaxSize-1<<20 {
		return nil, nil, fmt.Errorf("%d pieces of %d bytes would make the torrent too large; use a larger piece length", h.numPieces(), info.PieceLength)
	}
	if h.v1 {
		info.Pieces = make([]byte, h.numPieces()*HashSize)
	}
	var v2, v2Small []Hash256
	if h.v2 {
		v2, v2Small = make([]Hash256, h.numPieces()), make([]Hash256, h.numPieces())
	}
	var twinPieces []byte
	if h.twin {
		twinPieces = make([]byte, ceilDiv(h.twinTotal(), h.pieceLength)*HashSize)
	}
	h.onPiece = func(r pieceResult) {
		if r.twin {
			copy(twinPieces[r.index*HashSize:], r.sum[:])
			return
		}
		if h.v1 {
			copy(info.Pieces[r.index*HashSize:], r.sum[:])
		}
		if h.v2 {
			v2[r.index], v2Small[r.index] = r.v2, r.v2Small
		}
	}
	if _, err := h.run(ctx); err != nil {
		return nil, nil, fmt.Errorf("hashing %s: %w", path, err)
	}
	var layers PieceLayers
	if h.v2 {
		layers = info.setPiecesRoots(v2, v2Small)
	}

	t := &Torrent{
		PieceLayers:  layers,
		AnnounceList: opts.Trackers,
		WebSeeds:     opts.WebSeeds,
		Comment:      opts.Comment,
		CreatedBy:    opts.CreatedBy,
		CreationDate: opts.CreationDate,
	}
	if t.CreatedBy == "" {
		t.CreatedBy = version.Name + "/" + version.Version
	}
	if len(opts.Trackers) > 0 {
		t.Announce = opts.Trackers[0][0]
	}
	// One tracker needs no announce-list; mktorrent and libtorrent leave
	// it out too.
	if len(opts.Trackers) == 1 && len(opts.Trackers[0]) == 1 {
		t.AnnounceList = nil
	}
	if err := t.SetInfo(info); err != nil {
		return nil, nil, err
	}
	if !twin {
		return t, nil, nil
	}
	if !h.twin {
		twinPieces = info.Pieces
	}
	tw, err := newTwin(t, twinPieces)
	if err != nil {
		return nil, nil, err
	}
	return t, tw, nil
}

func (o *CreateOptions) check() error {
	for i, tier := range o.Trackers {
		if len(tier) == 0 {
			return fmt.Errorf("tracker tier %d is empty", i+1)
		}
		for _, u := range tier {
			if err := checkURL(u, "http", "https", "udp"); err != nil {
				return fmt.Errorf("tracker: %w", err)
			}
		}
	}
	for _, u := range o.WebSeeds {
		if err := checkURL(u, "http", "https"); err != nil {
			return fmt.Errorf("web seed: %w", err)
		}
	}
	if o.PieceLength != 0 {
		if err := checkPieceLength("piece length", o.PieceLength); err != nil {
			return err
		}
	}
	return nil
}

func checkURL(s string, schemes ...string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	for _, scheme := range schemes {
		if u.Scheme == scheme && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("%q is not an absolute %s URL", s, strings.Join(schemes, ", "))
}

// toTree turns a scanned v1 Info into a v2 (or hybrid) one: its files in
// file tree order, with offsets, and for a hybrid torrent the padded v1 file
// list. It returns the files' disk paths in the new order.
func (in *Info) toTree(paths []string, v Version) []string {
	if !in.IsMultiFile() {
		in.FileTree = []TreeFile{{Length: in.Length}}
		if v == V2 {
			in.Length = 0
		}
		return paths
	}
	order := make([]int, len(in.Files))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return slices.Compare(in.Files[a].Path, in.Files[b].Path) })
	sorted := make([]string, len(paths))
	in.FileTree = make([]TreeFile, len(in.Files))
	var pieces int64
	for i, j := range order {
		f := in.Files[j]
		in.FileTree[i] = TreeFile{Path: f.Path, Length: f.Length, Offset: pieces * in.PieceLength}
		pieces += ceilDiv(f.Length, in.PieceLength)
		sorted[i] = paths[j]
	}
	in.Files = nil
	if v == Hybrid {
		in.Files = in.v2Layout()
	}
	return sorted
}

// setPiecesRoots fills in the pieces roots of the file tree from the merkle
// roots of every piece, and returns the piece layers of the files longer
// than a piece.
func (in *Info) setPiecesRoots(v2, v2Small []Hash256) PieceLayers {
	layers := PieceLayers{}
	span := in.PieceLength / BlockSize
	for i := range in.FileTree {
		f := &in.FileTree[i]
		first, n := f.FirstPiece(in.PieceLength), f.NumPieces(in.PieceLength)
		switch {
		case n == 0:
		case n == 1:
			f.PiecesRoot = v2Small[first]
		default:
			layer := slices.Clone(v2[first : first+n])
			f.PiecesRoot = MerkleRoot(layer, span)
			layers[f.PiecesRoot] = layer
		}
	}
	return layers
}

// scan lists the file or folder at path as an Info without pieces, plus the
// disk path of each entry of its FileList.
func scan(path string) (Info, []string, error) {
	var info Info
	abs, err := filepath.Abs(path)
	if err != nil {
		return info, nil, err
	}
	info.Name = filepath.Base(abs)
	st, err := os.Stat(path)
	if err != nil {
		return info, nil, err
	}
	if st.Mode().IsRegular() {
		if st.Size() == 0 {
			return info, nil, fmt.Errorf("%s is empty", path)
		}
		info.Length = st.Size()
		return info, []string{path}, nil
	}
	if !st.IsDir() {
		return info, nil, fmt.Errorf("%s is not a regular file or a folder", path)
	}

	var total int64
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(p) // follows a symbolic link
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			// Following links to folders could loop or leave the folder.
			return fmt.Errorf("%s is a symbolic link to a folder, which is not followed", p)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file", p)
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		info.Files = append(info.Files, File{Path: strings.Split(filepath.ToSlash(rel), "/"), Length: fi.Size()})
		total += fi.Size()
		return nil
	})
	if err != nil {
		return info, nil, err
	}
	switch {
	case len(info.Files) == 0:
		return info, nil, fmt.Errorf("%s has no files", path)
	case total == 0:
		return info, nil, fmt.Errorf("every file in %s is empty", path)
	}
	sortFiles(info.Files)
	paths := make([]string, len(info.Files))
	for i, f := range info.Files {
		paths[i] = filepath.Join(append([]string{path}, f.Path...)...)
	}
	return info, paths, nil
}
