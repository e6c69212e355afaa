package content

import (
	"os"
	"strings"
	"sync"
)

// fileIndex maps a torrent's file paths to their place in the data, built
// on first use: only the web seed needs it.
type fileIndex struct {
	once sync.Once
	m    map[string]fileSpan
}

// fileSpan is where a file's bytes are in the torrent's data.
type fileSpan struct{ offset, length int64 }

// span finds rel, as File describes it.
func (t *Torrent) span(rel string) (fileSpan, bool) {
	info := &t.Meta.Info
	if !info.IsMultiFile() {
		// Its one file, without the padding a v2-only torrent ends in.
		return fileSpan{0, info.FileList()[0].Length}, rel == ""
	}
	t.files.once.Do(func() {
		t.files.m = make(map[string]fileSpan)
		for _, f := range info.FileList() {
			if !f.IsPadding() {
				t.files.m[strings.Join(f.Path, "/")] = fileSpan{f.Offset, f.Length}
			}
		}
	})
	s, ok := t.files.m[rel]
	return s, ok
}

// File reports whether rel is one of the torrent's files, and its length.
// rel is slash-separated and below the torrent's name; a single-file
// torrent's one file is "". Padding files (BEP 47) are not files.
func (t *Torrent) File(rel string) (length int64, ok bool) {
	s, ok := t.span(rel)
	return s.length, ok
}

// Complete reports whether every piece is served: verified, and its files
// unchanged since.
func (t *Torrent) Complete() bool { return t.verified.Len() == t.numPieces }

// FileServable reports whether the file rel (as File names it), which the
// caller opened and examined as fi, may be served as it is: fi shows the
// file as it was when verified, and every piece holding its bytes is
// served. Checking fi first means a file replaced after verification is
// refused even before the seeder notices the change.
func (t *Torrent) FileServable(rel string, fi os.FileInfo) bool {
	s, ok := t.span(rel)
	if !ok || fi.Size() != s.length {
		return false
	}
	if s.length == 0 {
		return true
	}
	if !t.storage.Unchanged(s.offset, fi) {
		return false
	}
	first, last := t.pieces(s.offset, s.length)
	for i := first; i <= last; i++ {
		if !t.verified.Has(i) {
			return false
		}
	}
	return true
}
