// Package storage reads a torrent's data from the files on disk: positional
// reads over the torrent's concatenated files, through a bounded cache of
// open file handles. Memory use does not depend on the data's size.
package storage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
)

// DefaultMaxOpen is how many files a Storage keeps open when Config leaves
// it zero.
const DefaultMaxOpen = 64

// Config says where a torrent's data lives and how many files may be open.
type Config struct {
	// Root is the folder that holds the torrent's Name.
	Root string
	// MaxOpen bounds the open file handles, DefaultMaxOpen when 0. A read
	// in progress keeps its file open even past the bound.
	MaxOpen int
	// CheckInterval is how often, at most, a file being read is examined
	// for changes (DefaultCheckInterval when 0). Files are also examined
	// when opened and when a read fails.
	CheckInterval time.Duration
	// Changed, when set, is told of every file found changed since it was
	// last examined (first at New). It runs with the storage's check lock
	// held, so it must be quick and must not call the Storage; reads of
	// the changed file fail with ErrChanged until it returns.
	Changed func(Change)
}

// segment is one file's share of the torrent's data.
type segment struct {
	path    string
	offset  int64
	length  int64
	padding bool // BEP 47 padding: zeros, never on disk
}

// Storage reads a torrent's data, and notices when a file changes under
// it: every file is examined at New, when opened, when a read fails, and
// at most once a CheckInterval while being read. It is safe for
// concurrent use.
type Storage struct {
	segs     []segment
	total    int64
	files    *fileCache
	state    []fileState // by segment
	interval time.Duration
	changed  func(Change)
	sigMu    sync.Mutex // guards every state[i].base
}

// New returns a Storage for info's files below cfg.Root. Files are opened
// on first read, so a missing file is an error of ReadAt, not of New. New
// examines every file: a change after New is reported to Config.Changed,
// so a torrent verified after New is never served from a file changed
// since its verification began.
func New(info *metainfo.Info, cfg Config) *Storage {
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = DefaultMaxOpen
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = DefaultCheckInterval
	}
	files := info.FileList()
	s := &Storage{total: info.TotalLength(), interval: cfg.CheckInterval, changed: cfg.Changed}
	for _, f := range files {
		if f.Length == 0 {
			continue // nothing to read; keeps the search below simple
		}
		seg := segment{offset: f.Offset, length: f.Length, padding: f.IsPadding()}
		if !seg.padding {
			seg.path = info.FilePath(cfg.Root, f)
		}
		s.segs = append(s.segs, seg)
	}
	paths := make([]string, len(s.segs))
	for i, seg := range s.segs {
		paths[i] = seg.path
	}
	s.files = newFileCache(paths, cfg.MaxOpen)
	s.state = make([]fileState, len(s.segs))
	now := time.Now().UnixNano()
	for i, seg := range s.segs {
		if !seg.padding {
			s.state[i].base = statSig(seg.path)
			s.state[i].checked.Store(now)
		}
	}
	return s
}

// Size is the torrent's total length.
func (s *Storage) Size() int64 { return s.total }

// ErrShort is returned (wrapped) when a file on disk is shorter than the
// torrent says.
var ErrShort = errors.New("storage: file shorter than in the torrent")

// ReadAt fills p with the torrent's data starting at off, crossing file
// boundaries as needed. It reads all of p or returns an error: a read past
// the end of the torrent is io.EOF (wrapped in a short read), a missing or
// short file an error naming the file.
func (s *Storage) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.total {
		return 0, fmt.Errorf("storage: read at %d outside [0, %d]", off, s.total)
	}
	n := 0
	i := s.find(off)
	for n < len(p) {
		if i >= len(s.segs) {
			return n, io.EOF
		}
		seg := &s.segs[i]
		within := off - seg.offset
		want := min(int64(len(p)-n), seg.length-within)
		dst := p[n : n+int(want)]
		if seg.padding {
			clear(dst)
		} else if err := s.readFile(i, dst, within); err != nil {
			return n, err
		}
		n += int(want)
		off += want
		i++
	}
	return n, nil
}

// find returns the index of the segment holding off, or len(segs) when off
// is the end of the data.
func (s *Storage) find(off int64) int {
	lo, hi := 0, len(s.segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.segs[m].offset+s.segs[m].length <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// readFile reads dst from file i at off. It fails rather than return
// bytes of a file found changed, and a failed read examines the file at
// once: a truncated or vanished file is reported as changed.
func (s *Storage) readFile(i int, dst []byte, off int64) error {
	if err := s.check(i, false); err != nil {
		return err
	}
	f, opened, err := s.files.acquire(i)
	if err != nil {
		s.check(i, true)
		return err
	}
	if opened {
		if err := s.compareOpen(i, f.f); err != nil {
			s.files.release(f)
			return err
		}
	}
	_, err = f.f.ReadAt(dst, off)
	s.files.release(f)
	if err == nil {
		return nil
	}
	if cerr := s.check(i, true); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w (reading %d bytes at %d): %w", s.segs[i].path, ErrShort, len(dst), off, err)
	}
	return fmt.Errorf("storage: %w", err)
}

// FileStat is a file's identity on disk as a resume record keeps it: what
// the live watcher compares too (size, modification time and, on Linux,
// device, inode and change time), so that a file replaced by a rename or
// rewritten with its old modification time given back is verified again
// at the next start, as it is while serving.
type FileStat struct {
	Path       string
	Size       int64
	ModTime    int64 // nanoseconds since the Unix epoch
	ChangeTime int64 // nanoseconds; 0 where not known
	Dev, Inode uint64
	Err        error // why the file could not be examined
}

// StatFile examines one file.
func StatFile(path string) FileStat {
	fs := FileStat{Path: path, Size: -1}
	st, err := os.Stat(path)
	if err != nil {
		fs.Err = err
		return fs
	}
	s := sigOf(st)
	fs.Size, fs.ModTime, fs.ChangeTime, fs.Dev, fs.Inode = s.size, s.mtime, s.ctime, s.dev, s.ino
	return fs
}

// Stat examines every non-empty, non-padding file, in torrent order.
func Stat(info *metainfo.Info, root string) []FileStat {
	var out []FileStat
	for _, f := range info.FileList() {
		if f.IsPadding() {
			continue
		}
		out = append(out, StatFile(info.FilePath(root, f)))
	}
	return out
}

// Close closes every cached file handle. Reads after Close reopen files.
func (s *Storage) Close() error { return s.files.closeAll() }
