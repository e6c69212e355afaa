package metainfo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/bitorigin/bitorigin/bitfield"
)

// FileStatus is what Verify found for one file.
type FileStatus int

// The file statuses, from best to worst.
const (
	// FileOK: present at its full length, and every piece it shares that
	// could be read matched.
	FileOK FileStatus = iota
	// FileLong: longer on disk than in the torrent; the bytes past its
	// length are ignored.
	FileLong
	// FileCorrupt: at least one piece overlapping the file was read in
	// full and did not match its hash.
	FileCorrupt
	// FileShort: shorter on disk than in the torrent.
	FileShort
	// FileMissing: not on disk.
	FileMissing
	// FileUnreadable: on disk but could not be opened or read.
	FileUnreadable
)

func (s FileStatus) String() string {
	switch s {
	case FileOK:
		return "ok"
	case FileLong:
		return "longer than in the torrent"
	case FileCorrupt:
		return "wrong data"
	case FileShort:
		return "short"
	case FileMissing:
		return "missing"
	case FileUnreadable:
		return "unreadable"
	}
	return fmt.Sprintf("FileStatus(%d)", int(s))
}

// FileReport is Verify's finding for one file of the torrent.
type FileReport struct {
	File File
	// Path is where the file was looked for; empty for padding files.
	Path   string
	Status FileStatus
	// Size is the file's size on disk, or -1 when it could not be opened.
	Size int64
	// Err explains FileMissing and FileUnreadable.
	Err error
	// BadPieces counts the pieces overlapping the file that are not good,
	// for whatever reason.
	BadPieces int
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	// Have marks the pieces whose data is on disk and matches its hash:
	// the pieces a seeder can serve.
	Have *bitfield.Bitfield
	// Mismatched lists the pieces that were read in full but hashed wrong:
	// for a hybrid torrent, wrong by either its SHA-1 or its v2 hash.
	Mismatched []int
	// Inconsistent lists the pieces of a hybrid torrent whose data matched
	// one version's hash but not the other's: the torrent itself is wrong,
	// and v1 and v2 peers would disagree about the piece.
	Inconsistent []int
	// Files reports on each file, in torrent order.
	Files []FileReport
}

// Complete reports whether every piece matched.
func (r *VerifyResult) Complete() bool { return r.Have.All() }

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// PieceLayers are the torrent's BEP 52 piece layers (Torrent.
	// PieceLayers). A v2 or hybrid torrent needs them to check the pieces
	// of its files longer than a piece; Verify refuses layers that do not
	// match the file tree.
	PieceLayers PieceLayers
	// Workers is the number of hashing goroutines; zero means one per core.
	Workers int
	// Progress, when set, is called after each piece with the bytes checked
	// so far and the total, always from the goroutine that called Verify.
	Progress func(done, total int64)
}

// Verify hashes the torrent's data in root, the folder that holds the
// torrent's Name, and reports which pieces match and what is wrong with
// each file. A v1 piece must match its SHA-1 hash, a v2 piece its piece
// layer hash (or its file's pieces root, for a file of one piece), a hybrid
// piece both. Problems with the data are reported in the result, not as an
// error; the error is for a missing root, an invalid info or piece layers,
// or a cancelled ctx.
func Verify(ctx context.Context, info *Info, root string, opts VerifyOptions) (*VerifyResult, error) {
	// An Info built by hand has not been through Parse's checks; a piece
	// length of zero or a wrong piece count must be an error, not a panic.
	checked := *info
	checked.Files = slices.Clone(info.Files)
	if err := checked.validate(); err != nil {
		return nil, err
	}
	info = &checked
	var v2 *v2Check
	if info.HasV2() {
		layers := opts.PieceLayers
		if layers == nil {
			layers = PieceLayers{}
		}
		if err := layers.check(info); err != nil {
			return nil, err
		}
		v2 = newV2Check(info, layers)
	}
	if st, err := os.Stat(root); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", root)
	}
	files := info.FileList()
	regions := make([]region, len(files))
	res := &VerifyResult{Have: bitfield.New(uint32(info.NumPieces())), Files: make([]FileReport, len(files))}
	for i, f := range files {
		regions[i] = region{length: f.Length, padding: f.IsPadding()}
		res.Files[i].File = f
		if !f.IsPadding() {
			regions[i].path = info.FilePath(root, f)
			res.Files[i].Path = regions[i].path
		}
	}
	// mismatched marks pieces read in full that hashed wrong; pieces
	// neither good nor mismatched could not be read in full.
	mismatched := bitfield.New(uint32(info.NumPieces()))
	h := &hashRun{
		regions:     regions,
		pieceLength: info.PieceLength,
		total:       info.TotalLength(),
		workers:     opts.Workers,
		progress:    opts.Progress,
		v1:          info.HasV1(),
		v2:          info.HasV2(),
		onPiece: func(r pieceResult) {
			if !r.hashed {
				return
			}
			v1OK := !info.HasV1() || r.sum == info.PieceHash(r.index)
			v2OK := v2 == nil || v2.matches(r)
			switch {
			case v1OK && v2OK:
				res.Have.Set(uint32(r.index))
			case v1OK != v2OK && info.HasV1() && v2 != nil:
				res.Inconsistent = append(res.Inconsistent, r.index)
				fallthrough
			default:
				mismatched.Set(uint32(r.index))
			}
		},
	}
	reads, err := h.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("hashing %s: %w", root, err)
	}
	for i := range info.NumPieces() {
		if mismatched.Has(uint32(i)) {
			res.Mismatched = append(res.Mismatched, i)
		}
	}
	slices.Sort(res.Inconsistent)
	for i, f := range files {
		fr := &res.Files[i]
		fr.Size, fr.Err = reads[i].size, reads[i].err
		corrupt := false
		if f.Length > 0 {
			first := f.Offset / info.PieceLength
			last := (f.Offset + f.Length - 1) / info.PieceLength
			for p := uint32(first); p <= uint32(last); p++ {
				if !res.Have.Has(p) {
					fr.BadPieces++
				}
				corrupt = corrupt || mismatched.Has(p)
			}
		}
		switch {
		case fr.Size < 0 && errors.Is(fr.Err, fs.ErrNotExist):
			fr.Status = FileMissing
		case fr.Size < 0:
			fr.Status = FileUnreadable
		case fr.Size < f.Length:
			fr.Status = FileShort
		case fr.Err != nil:
			fr.Status = FileUnreadable
		case corrupt:
			fr.Status = FileCorrupt
		case fr.Size > f.Length:
			fr.Status = FileLong
		}
	}
	return res, nil
}

// v2Check knows the v2 hash every piece must have.
type v2Check struct {
	info   *Info
	layers PieceLayers
	// file maps a piece to the index of its file in info.FileTree.
	file []int
}

func newV2Check(info *Info, layers PieceLayers) *v2Check {
	c := &v2Check{info: info, layers: layers, file: make([]int, info.NumPieces())}
	for i, f := range info.FileTree {
		first := f.FirstPiece(info.PieceLength)
		for p := range f.NumPieces(info.PieceLength) {
			c.file[first+p] = i
		}
	}
	return c
}

// matches reports whether a hashed piece has the v2 hash the torrent
// gives it.
func (c *v2Check) matches(r pieceResult) bool {
	f := c.info.FileTree[c.file[r.index]]
	if !f.HasPieceLayer(c.info.PieceLength) {
		return r.v2Small == f.PiecesRoot
	}
	return r.v2 == c.layers[f.PiecesRoot][r.index-f.FirstPiece(c.info.PieceLength)]
}
