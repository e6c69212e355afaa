package metainfo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
)

// A hybrid torrent's v1-only twin is a plain v1 torrent of the same files:
// the hybrid's name, piece length, private flag and source, and its v1 file
// list in the same order without the BEP 47 padding files, so that a client
// that knows nothing of padding (Transmission 3.00, aria2 1.36) writes
// exactly the files and no .pad folder. Without padding, pieces span file
// boundaries as in any v1 torrent, so the twin has pieces of its own, and
// an info hash of its own, which depends only on the hybrid's layout and the
// data: the same data always gives the same twin. A hybrid without padding
// (one file, or files that all end on piece boundaries) has the very same
// pieces as its twin.
//
// The twin is what the v1 protocol alone can do for clients that refuse a
// hybrid (Transmission 3.00) or compute a wrong v1 info hash for one
// (aria2 1.36): they join its swarm, not the hybrid's.

// twinInfo returns the info dictionary of the hybrid's v1-only twin,
// without pieces.
func (in *Info) twinInfo() Info {
	tw := Info{Name: in.Name, PieceLength: in.PieceLength, Private: in.Private, Source: in.Source}
	if !in.IsMultiFile() {
		tw.Length = in.Length
		return tw
	}
	for _, f := range in.Files {
		if !f.IsPadding() {
			tw.Files = append(tw.Files, File{Path: slices.Clone(f.Path), Length: f.Length, Attr: f.Attr})
		}
	}
	return tw
}

// IsTwinOf reports whether in is the info dictionary of hybrid's v1-only
// twin: a v1 torrent with hybrid's name, piece length, private flag, source
// and files, in the same order, without padding. Only the data can tell
// whether its pieces are right.
func (in *Info) IsTwinOf(hybrid *Info) bool {
	if in.Version() != V1 || hybrid.Version() != Hybrid {
		return false
	}
	want := hybrid.twinInfo()
	return in.Name == want.Name && in.PieceLength == want.PieceLength && in.Private == want.Private &&
		in.Source == want.Source && in.Length == want.Length &&
		slices.EqualFunc(in.Files, want.Files, func(a, b File) bool {
			return slices.Equal(a.Path, b.Path) && a.Length == b.Length && a.Attr == b.Attr
		})
}

// hasPadding reports whether a file list has BEP 47 padding files.
func hasPadding(files []File) bool {
	return slices.ContainsFunc(files, File.IsPadding)
}

// newTwin returns the v1-only twin of hybrid with the given SHA-1 piece
// hashes. It has the hybrid's trackers, web seeds (the files are the same,
// at the same paths), creator and creation date; its comment, unless the
// hybrid has one, names the hybrid.
func newTwin(hybrid *Torrent, pieces []byte) (*Torrent, error) {
	info := hybrid.Info.twinInfo()
	info.Pieces = pieces
	v1, _ := hybrid.InfoHashV1()
	t := &Torrent{
		Announce:     hybrid.Announce,
		AnnounceList: slices.Clone(hybrid.AnnounceList),
		WebSeeds:     slices.Clone(hybrid.WebSeeds),
		Comment:      hybrid.Comment,
		CreatedBy:    hybrid.CreatedBy,
		CreationDate: hybrid.CreationDate,
	}
	if t.Comment == "" {
		t.Comment = "v1-only twin of the hybrid torrent " + v1.String() + ", for clients without BitTorrent v2"
	}
	if err := t.SetInfo(info); err != nil {
		return nil, fmt.Errorf("v1 twin of %s: %w", hybrid.Info.Name, err)
	}
	return t, nil
}

// CreateHybrid makes a hybrid torrent of the file or folder at path, as
// Create does with opts.Version Hybrid, and its v1-only twin, from one read
// of the data: the twin's SHA-1 pieces are hashed from the same buffers,
// on the same workers (one more SHA-1 pass over the data, none when the
// hybrid has no padding).
func CreateHybrid(ctx context.Context, path string, opts CreateOptions) (hybrid, twin *Torrent, err error) {
	opts.Version = Hybrid
	return create(ctx, path, opts, true)
}

// CreateTwin makes the v1-only twin of an existing hybrid torrent from its
// data at path (the file or folder the hybrid's name names), hashing it
// with SHA-1 with workers goroutines (0: one per core), reporting to
// progress when not nil. A hybrid without padding needs no hashing: its
// pieces are the twin's. The data must have the hybrid's sizes; whether it
// matches the hybrid's hashes is not checked.
func CreateTwin(ctx context.Context, hybrid *Torrent, path string, workers int, progress func(done, total int64)) (*Torrent, error) {
	info := &hybrid.Info
	if info.Version() != Hybrid {
		return nil, errors.New("a v1-only twin is made of a hybrid torrent only")
	}
	files := info.FileList()
	if !hasPadding(files) {
		return newTwin(hybrid, info.Pieces)
	}
	var regions []region
	for _, f := range files {
		if !f.IsPadding() {
			regions = append(regions, region{path: filepath.Join(append([]string{path}, f.Path...)...), length: f.Length})
		}
	}
	tw := info.twinInfo()
	h := &hashRun{
		regions:     regions,
		pieceLength: info.PieceLength,
		total:       tw.TotalLength(),
		workers:     workers,
		strict:      true,
		progress:    progress,
		v1:          true,
	}
	pieces := make([]byte, h.numPieces()*HashSize)
	h.onPiece = func(r pieceResult) { copy(pieces[r.index*HashSize:], r.sum[:]) }
	if _, err := h.run(ctx); err != nil {
		return nil, fmt.Errorf("hashing %s: %w", path, err)
	}
	return newTwin(hybrid, pieces)
}
