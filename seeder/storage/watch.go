package storage

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// DefaultCheckInterval is how often, at most, a file being read is
// examined for changes when Config leaves it zero.
const DefaultCheckInterval = time.Second

// ErrChanged is returned (wrapped) by a read that found its file changed
// since it was verified: other size, modification or change time, or
// another file at the path. The read's bytes are not to be trusted.
var ErrChanged = errors.New("storage: file changed on disk since it was verified")

// sig is what the file system says about a file, enough to tell that its
// content may have changed. The zero sig with missing set is a file that
// could not be examined.
type sig struct {
	size, mtime, ctime int64
	dev, ino           uint64
	missing            bool
}

// describe says how now differs from was, for logs.
func describe(was, now sig) string {
	switch {
	case now.missing:
		return "removed or unreadable"
	case was.missing:
		return "appeared"
	case now.dev != was.dev || now.ino != was.ino:
		return "replaced by another file"
	case now.size < was.size:
		return fmt.Sprintf("truncated from %d to %d bytes", was.size, now.size)
	case now.size > was.size:
		return fmt.Sprintf("grown from %d to %d bytes", was.size, now.size)
	}
	return "modified"
}

// Change is a file found changed on disk: the torrent's bytes
// [Offset, Offset+Length) are its, and none of them is to be served before
// the pieces holding them are verified again.
type Change struct {
	Path           string
	Offset, Length int64
	// What says how it changed: truncated, replaced, removed...
	What string
}

// fileState is what the storage knows of one segment's file.
type fileState struct {
	// checked is when the file was last examined, in Unix nanoseconds.
	checked atomic.Int64
	// base is the file's signature when it was last examined; guarded by
	// Storage.sigMu.
	base sig
}

// statSig examines the file at path.
func statSig(path string) sig {
	fi, err := os.Stat(path)
	if err != nil {
		return sig{missing: true}
	}
	return sigOf(fi)
}

// check examines file i by path when it was last examined more than the
// check interval ago, or at once when force is set, and reports a change
// as ErrChanged. The time test costs an atomic load, so every read can
// afford it; the stat happens once an interval.
func (s *Storage) check(i int, force bool) error {
	st := &s.state[i]
	now := time.Now().UnixNano()
	last := st.checked.Load()
	if !force && (now-last < int64(s.interval) || !st.checked.CompareAndSwap(last, now)) {
		return nil
	}
	if force {
		st.checked.Store(now)
	}
	return s.compare(i, statSig(s.segs[i].path))
}

// compare reports file i changed, as ErrChanged, when cur differs from
// what was last seen, and then calls Config.Changed, drops the cached
// handle and takes cur as the file's new signature. Changed runs before
// the new signature is taken, under sigMu, so whoever sees the new
// signature (Unchanged) sees the torrent's reaction too.
func (s *Storage) compare(i int, cur sig) error {
	seg := &s.segs[i]
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	was := s.state[i].base
	if cur == was {
		return nil
	}
	what := describe(was, cur)
	if s.changed != nil {
		s.changed(Change{Path: seg.path, Offset: seg.offset, Length: seg.length, What: what})
	}
	s.state[i].base = cur
	s.files.forget(i)
	if !cur.missing && !was.missing && cur.dev == was.dev && cur.ino == was.ino && cur.size < was.size {
		// Truncated: a short file too, as a read past its new end would
		// have found, whichever of the two notices first.
		return fmt.Errorf("%s: %w: %s: %w", seg.path, ErrChanged, what, ErrShort)
	}
	return fmt.Errorf("%s: %w: %s", seg.path, ErrChanged, what)
}

// compareOpen checks a file just opened against its signature: the path
// may lead to another file than the one last examined.
func (s *Storage) compareOpen(i int, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return s.compare(i, sig{missing: true})
	}
	return s.compare(i, sigOf(fi))
}

// Check examines, at most once a check interval each, the files holding
// the torrent's bytes [off, off+n), reporting changes through
// Config.Changed. Files nobody reads are examined only this way: a seeder
// calls it for pieces it does not serve, to notice when they are repaired.
func (s *Storage) Check(off, n int64) {
	for i := s.find(max(off, 0)); i < len(s.segs) && s.segs[i].offset < off+n; i++ {
		if !s.segs[i].padding {
			s.check(i, false)
		}
	}
}

// Unchanged reports whether fi describes the non-empty file at the
// torrent's byte offset off as it was when last examined (for a verified
// torrent: as verified). The web seed, which opens files itself, asks it.
func (s *Storage) Unchanged(off int64, fi os.FileInfo) bool {
	i := s.find(off)
	if i >= len(s.segs) || s.segs[i].offset != off || s.segs[i].padding {
		return false
	}
	s.sigMu.Lock()
	defer s.sigMu.Unlock()
	return sigOf(fi) == s.state[i].base
}
