package content

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/seeder/resume"
	"github.com/bitorigin/bitorigin/seeder/storage"
)

// maxHashMemory bounds the piece buffers of a verification.
const maxHashMemory = 256 << 20

// verify decides which pieces of an existing torrent's data are good: it
// trusts the resume record for files whose size and modification time did
// not change and hashes the pieces that touch any other file.
func verify(ctx context.Context, cfg LoadConfig, tf *torrentFile, store resume.Store) (*Torrent, error) {
	start := time.Now()
	meta := tf.meta
	info := &meta.Info
	n := uint32(info.NumPieces())
	// The Torrent examines the files first: one changed after that
	// invalidates its pieces, even if the stats below or the hashing
	// missed the change.
	t := NewTorrent(meta, tf.path, cfg.DataDir, bitfield.New(n), cfg.MaxOpenFiles)
	stats := storage.Stat(info, cfg.DataDir)
	have := bitfield.New(n)
	todo := make([]bool, n)
	resumed := false

	rec, err := store.Load(meta.InfoHash().String())
	if err != nil {
		cfg.Logger.Warn("resume record ignored", "name", info.Name, "err", err)
	}
	var recHave *bitfield.Bitfield
	if rec != nil && rec.Pieces == n {
		recHave, _ = bitfield.FromBytes(rec.Have, n)
	}
	if recHave == nil {
		for i := range todo {
			todo[i] = true
		}
	} else {
		resumed = true
		have = recHave
		now := make([]resume.File, len(stats))
		for i, st := range stats {
			now[i] = resumeFile(st)
		}
		same := rec.Unchanged(now)
		i := 0
		for _, f := range info.FileList() {
			if f.IsPadding() {
				continue
			}
			if !same[i] && f.Length > 0 {
				first, last := f.Offset/info.PieceLength, (f.Offset+f.Length-1)/info.PieceLength
				for p := first; p <= last; p++ {
					todo[p] = true
				}
			}
			i++
		}
	}

	var bytes int64
	var pieces []uint32
	for i, t := range todo {
		if t {
			pieces = append(pieces, uint32(i))
			bytes += info.PieceSize(i)
		}
	}
	if len(pieces) > 0 {
		job := cfg.startHashing("verifying " + info.Name)
		err := t.Hash(ctx, pieces, cfg.Workers, func(i uint32, good bool) {
			if good {
				have.Set(i)
			} else {
				have.Clear(i)
			}
		}, bytes, job)
		job.Finish()
		if err != nil {
			t.Close()
			return nil, err
		}
	}
	t.loaded(have)
	if err := store.Save(record(meta, stats, have)); err != nil {
		cfg.Logger.Warn("resume record not saved", "name", info.Name, "err", err)
	}
	good := have.Count()
	cfg.Logger.Info("torrent verified", "name", info.Name, "info_hash", meta.InfoHash().String(),
		"torrent", tf.path, "pieces", n, "good", good, "hashed_pieces", len(pieces), "resumed", resumed,
		"took", time.Since(start).Round(time.Millisecond))
	if good < n {
		var bad []uint32
		for i := range n {
			if !have.Has(i) && len(bad) < 10 {
				bad = append(bad, i)
			}
		}
		cfg.Logger.Warn("pieces failed verification and will not be served", "name", info.Name,
			"bad", n-good, "first_bad", bad)
	}
	return t, nil
}

// Hash checks the given pieces of t, of total bytes, against their hashes
// (SHA-1 for v1, the piece layer's for v2, both for a hybrid: t.check) on
// workers goroutines (0 for one per core) and gives each one's result to
// done, on the calling goroutine, reporting to bar (nil for none). A piece
// that cannot be read is bad. It changes nothing: the caller records the
// results (Settle).
func (t *Torrent) Hash(ctx context.Context, pieces []uint32, workers int,
	done func(i uint32, good bool), total int64, bar Progress) error {
	info := &t.Meta.Info
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, int(maxHashMemory/info.PieceLength)))
	jobs := make(chan uint32)
	type result struct {
		index uint32
		size  int64
		good  bool
	}
	results := make(chan result)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, info.PieceLength)
			for i := range jobs {
				size := info.PieceSize(int(i))
				p := buf[:size]
				_, err := t.storage.ReadAt(p, int64(i)*info.PieceLength)
				good := err == nil && t.check(i, p)
				select {
				case results <- result{i, size, good}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, i := range pieces {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var hashed int64
	for r := range results {
		done(r.index, r.good)
		hashed += r.size
		if bar != nil {
			bar.Update(hashed, total)
		}
	}
	return ctx.Err()
}

// resumeFile is what a resume record keeps of a file.
func resumeFile(st storage.FileStat) resume.File {
	return resume.File{Path: st.Path, Size: st.Size, ModTime: st.ModTime, ChangeTime: st.ChangeTime, Dev: st.Dev, Inode: st.Inode}
}

// ExamineUnserved examines the files holding the pieces not served, which
// nobody reads: a file repaired or put back shows as a change, and its
// pieces are invalidated, to be verified again.
func (t *Torrent) ExamineUnserved() {
	if t.Complete() {
		return
	}
	pl := int64(t.pieceLen)
	for i := uint32(0); i < t.numPieces; {
		if t.verified.Has(i) {
			i++
			continue
		}
		j := i + 1
		for j < t.numPieces && !t.verified.Has(j) {
			j++
		}
		off := int64(i) * pl
		end := min(int64(j)*pl, t.storage.Size())
		t.storage.Check(off, end-off)
		i = j
	}
}
