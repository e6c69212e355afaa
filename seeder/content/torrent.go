// Package content is one torrent's content as the seeder serves it: the
// Torrent (its metainfo, its data on disk and the pieces verified, which
// stop being served when a file changes), and the preparation of a
// content folder's torrents (Load): finding the .torrent of each entry or
// creating one, the v1-only twin of a hybrid, and verifying the data
// with a resume record. Package seeder serves the torrents, package
// catalogue keeps them in step with a watched folder, package webseed
// serves their files over HTTP.
package content

import (
	"sync"
	"sync/atomic"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/pieces"
	"github.com/bitorigin/bitorigin/seeder/storage"
)

// Torrent is one torrent ready to serve: its metainfo, where its data is,
// and which pieces were verified.
//
// A piece is served only while it is verified: when a file changes on disk
// (truncated, rewritten, replaced or removed) or a read fails, the pieces
// it holds stop being served at once and are verified again in the
// background; those that pass are served again.
type Torrent struct {
	// Meta is the parsed .torrent.
	Meta *metainfo.Torrent
	// Path is the .torrent file it came from.
	Path string
	// Root is the folder that holds the data named Meta.Info.Name.
	Root string
	// Have marks the pieces that passed verification when the torrent was
	// loaded. It does not follow changes on disk while serving; Verified
	// and Complete do.
	Have *bitfield.Bitfield
	// TwinOf is, for the v1-only twin of a hybrid torrent
	// (LoadConfig.V1Twin), the hybrid's v1 info hash; zero otherwise.
	TwinOf metainfo.InfoHash

	storage  *storage.Storage
	uploaded atomic.Int64
	// pieceLen and lastLen are the piece sizes, for request checks.
	pieceLen, lastLen uint32
	numPieces         uint32
	// verified are the pieces served: verified, and their files unchanged
	// since.
	verified *pieces.Set
	// files indexes the file paths, for the web seed.
	files fileIndex
	// checker checks pieces against their hashes, whatever the version;
	// nil when the piece layers do not match the file tree (then no
	// piece passes).
	checker *metainfo.PieceChecker
	// trees are the merkle trees above the piece layers of a v2 or
	// hybrid torrent's files, by pieces root, for BEP 52 hash requests.
	trees map[metainfo.Hash256]*metainfo.PieceTree

	mu sync.Mutex // guards what follows
	// pending are the pieces invalidated and not yet verified again.
	pending *bitfield.Bitfield
	// watcher, set while a seeder serves the torrent, is told of every
	// invalidation.
	watcher func(Invalidation)
}

// Invalidation is why pieces stopped being served.
type Invalidation struct {
	// File is the file found changed on disk; empty for a failed read.
	File string
	// What happened: "truncated from 10 to 5 bytes", "read failed: ...".
	What string
	// First and Last are the pieces.
	First, Last uint32
}

// NewTorrent returns a Torrent whose data is in root (the folder holding
// its Name), with the verified pieces have. maxOpen bounds its open files.
// The files are examined now: a change from now on invalidates the pieces
// it touches.
func NewTorrent(meta *metainfo.Torrent, path, root string, have *bitfield.Bitfield, maxOpen int) *Torrent {
	info := &meta.Info
	t := &Torrent{
		Meta:      meta,
		Path:      path,
		Root:      root,
		Have:      have,
		pieceLen:  uint32(info.PieceLength),
		numPieces: uint32(info.NumPieces()),
	}
	t.lastLen = uint32(info.PieceSize(info.NumPieces() - 1))
	t.verified = pieces.NewSet(t.numPieces)
	t.pending = bitfield.New(t.numPieces)
	for i := range t.numPieces {
		t.verified.Set(i, have.Has(i))
	}
	t.storage = storage.New(info, storage.Config{Root: root, MaxOpen: maxOpen, Changed: t.fileChanged})
	// Parse checked the piece layers; a hand-made Torrent may be wrong,
	// and then serves nothing rather than unchecked data.
	t.checker, _ = metainfo.NewPieceChecker(info, meta.PieceLayers)
	if t.checker != nil && info.HasV2() {
		t.trees = make(map[metainfo.Hash256]*metainfo.PieceTree, len(meta.PieceLayers))
		for root, layer := range meta.PieceLayers {
			t.trees[root] = metainfo.NewPieceTree(layer, info.PieceLength)
		}
	}
	return t
}

// check reports whether piece i, read from storage, matches its hashes.
func (t *Torrent) check(i uint32, piece []byte) bool {
	return t.checker != nil && t.checker.Check(int(i), piece)
}

// Name is the torrent's name.
func (t *Torrent) Name() string { return t.Meta.Info.Name }

// InfoHash is the torrent's v1 info hash, or the truncated v2 info hash of
// a v2-only torrent: the hash it is known by in logs, resume records and
// the seeder's API.
func (t *Torrent) InfoHash() metainfo.InfoHash { return t.Meta.InfoHash() }

// InfoHashes are every hash peers and trackers know the torrent by: the v1
// info hash, the truncated v2 info hash, or both for a hybrid (v1 first).
// A hybrid is one torrent in two swarms (BEP 52): v1 peers join it by one
// hash, v2 peers by the other.
func (t *Torrent) InfoHashes() []metainfo.InfoHash {
	var out []metainfo.InfoHash
	if h, ok := t.Meta.InfoHashV1(); ok {
		out = append(out, h)
	}
	if h, ok := t.Meta.InfoHashV2(); ok {
		out = append(out, h.Truncate())
	}
	return out
}

// Uploaded is the number of block bytes sent to peers since start.
func (t *Torrent) Uploaded() int64 { return t.uploaded.Load() }

// UploadCounter is the counter behind Uploaded, which the connections
// serving the torrent add to.
func (t *Torrent) UploadCounter() *atomic.Int64 { return &t.uploaded }

// NumPieces is the number of pieces.
func (t *Torrent) NumPieces() uint32 { return t.numPieces }

// PieceLen is the length of every piece but the last, LastLen.
func (t *Torrent) PieceLen() uint32 { return t.pieceLen }

// LastLen is the length of the last piece.
func (t *Torrent) LastLen() uint32 { return t.lastLen }

// Served are the pieces served now: verified, and their files unchanged
// since. Only the Torrent changes the set.
func (t *Torrent) Served() *pieces.Set { return t.verified }

// Storage reads the torrent's data.
func (t *Torrent) Storage() *storage.Storage { return t.storage }

// Trees are the merkle trees above the piece layers of a v2 or hybrid
// torrent's files, by pieces root, for BEP 52 hash requests; nil for v1.
func (t *Torrent) Trees() map[metainfo.Hash256]*metainfo.PieceTree { return t.trees }

// Verified is the number of pieces served now: verified, and their files
// unchanged since.
func (t *Torrent) Verified() uint32 { return t.verified.Len() }

// Left is the number of bytes in pieces not served: 0 for a complete seed.
func (t *Torrent) Left() int64 {
	if t.Complete() {
		return 0
	}
	var left int64
	for i := range t.numPieces {
		if !t.verified.Has(i) {
			left += t.Meta.Info.PieceSize(int(i))
		}
	}
	return left
}

// pieces returns the pieces holding the bytes [off, off+n), n > 0.
func (t *Torrent) pieces(off, n int64) (first, last uint32) {
	pl := int64(t.pieceLen)
	return uint32(off / pl), uint32((off + n - 1) / pl)
}

// fileChanged invalidates the pieces of a file the storage found changed.
func (t *Torrent) fileChanged(c storage.Change) {
	first, last := t.pieces(c.Offset, c.Length)
	t.invalidate(Invalidation{File: c.Path, What: c.What, First: first, Last: last})
}

// Invalidate stops serving the pieces of n bytes at off (n > 0), which
// could not be read for the reason why, and has them verified again.
func (t *Torrent) Invalidate(off, n int64, why string) {
	first, last := t.pieces(off, n)
	t.invalidate(Invalidation{What: why, First: first, Last: last})
}

// invalidate stops serving pieces first to last, marks them to be
// verified again and tells the watcher.
func (t *Torrent) invalidate(inv Invalidation) {
	t.mu.Lock()
	for i := inv.First; i <= inv.Last && i < t.numPieces; i++ {
		t.verified.Set(i, false)
		t.pending.Set(i)
	}
	w := t.watcher
	t.mu.Unlock()
	if w != nil {
		w(inv)
	}
}

// TakePending returns the pieces to verify again, and forgets them.
func (t *Torrent) TakePending() []uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []uint32
	for i := range t.numPieces {
		if t.pending.Has(i) {
			out = append(out, i)
			t.pending.Clear(i)
		}
	}
	return out
}

// Settle records the result of verifying piece i again, unless it was
// invalidated meanwhile (then it is pending again, and verified later).
// It reports whether the piece is served again.
func (t *Torrent) Settle(i uint32, good bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending.Has(i) {
		return false
	}
	return t.verified.Set(i, good) && good
}

// loaded records the result of the verification at load: have, less the
// pieces invalidated while it ran.
func (t *Torrent) loaded(have *bitfield.Bitfield) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Have = have
	for i := range t.numPieces {
		t.verified.Set(i, have.Has(i) && !t.pending.Has(i))
	}
}

// Watch sets the function told of invalidations (nil for none) and
// reports whether pieces are waiting to be verified again. The seeder
// serving the torrent watches it.
func (t *Torrent) Watch(f func(Invalidation)) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watcher = f
	return t.pending.Count() > 0
}

// Close releases the torrent's open files.
func (t *Torrent) Close() error { return t.storage.Close() }

// FullBitfield returns a bitfield with every piece of meta set: the
// pieces of a torrent just made from its data.
func FullBitfield(meta *metainfo.Torrent) *bitfield.Bitfield {
	b := bitfield.New(uint32(meta.Info.NumPieces()))
	b.SetAll()
	return b
}
