package seeder

import (
	"sync/atomic"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/storage"
)

// Torrent is one torrent ready to serve: its metainfo, where its data is,
// and which pieces were verified.
type Torrent struct {
	// Meta is the parsed .torrent.
	Meta *metainfo.Torrent
	// Path is the .torrent file it came from.
	Path string
	// Root is the folder that holds the data named Meta.Info.Name.
	Root string
	// Have marks the pieces that passed verification; only those are
	// served. Not modified once serving starts.
	Have *bitfield.Bitfield

	storage  *storage.Storage
	uploaded atomic.Int64
	// pieceLen and lastLen are the piece sizes, for request checks.
	pieceLen, lastLen uint32
	numPieces         uint32
	complete          bool
	// files indexes the file paths, for the web seed.
	files fileIndex
}

// NewTorrent returns a Torrent whose data is in root (the folder holding
// its Name), with the verified pieces have. maxOpen bounds its open files.
func NewTorrent(meta *metainfo.Torrent, path, root string, have *bitfield.Bitfield, maxOpen int) *Torrent {
	info := &meta.Info
	t := &Torrent{
		Meta:      meta,
		Path:      path,
		Root:      root,
		Have:      have,
		storage:   storage.New(info, storage.Config{Root: root, MaxOpen: maxOpen}),
		pieceLen:  uint32(info.PieceLength),
		numPieces: uint32(info.NumPieces()),
	}
	t.lastLen = uint32(info.PieceSize(info.NumPieces() - 1))
	t.complete = have.All()
	return t
}

// Name is the torrent's name.
func (t *Torrent) Name() string { return t.Meta.Info.Name }

// InfoHash is the torrent's v1 info hash.
func (t *Torrent) InfoHash() metainfo.InfoHash { return t.Meta.InfoHash() }

// Uploaded is the number of block bytes sent to peers since start.
func (t *Torrent) Uploaded() int64 { return t.uploaded.Load() }

// Left is the number of bytes in pieces that failed verification: 0 for a
// complete seed.
func (t *Torrent) Left() int64 {
	if t.complete {
		return 0
	}
	var left int64
	for i := range t.numPieces {
		if !t.Have.Has(i) {
			left += t.Meta.Info.PieceSize(int(i))
		}
	}
	return left
}

// pieceSize is the length of piece i, which must be in range.
func (t *Torrent) pieceSize(i uint32) uint32 {
	if i == t.numPieces-1 {
		return t.lastLen
	}
	return t.pieceLen
}

// Close releases the torrent's open files.
func (t *Torrent) Close() error { return t.storage.Close() }

// newFullBitfield returns a bitfield with every piece of meta set.
func newFullBitfield(meta *metainfo.Torrent) *bitfield.Bitfield {
	b := bitfield.New(uint32(meta.Info.NumPieces()))
	b.SetAll()
	return b
}
