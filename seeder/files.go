package seeder

import (
	"strings"
	"sync"
)

// fileIndex maps a torrent's file paths to their lengths, built on first
// use: only the web seed needs it.
type fileIndex struct {
	once sync.Once
	m    map[string]int64
}

// File reports whether rel is one of the torrent's files, and its length.
// rel is slash-separated and below the torrent's name; a single-file
// torrent's one file is "". Padding files (BEP 47) are not files.
func (t *Torrent) File(rel string) (length int64, ok bool) {
	info := &t.Meta.Info
	if !info.IsMultiFile() {
		return info.TotalLength(), rel == ""
	}
	t.files.once.Do(func() {
		t.files.m = make(map[string]int64)
		for _, f := range info.FileList() {
			if !f.IsPadding() {
				t.files.m[strings.Join(f.Path, "/")] = f.Length
			}
		}
	})
	length, ok = t.files.m[rel]
	return length, ok
}

// Complete reports whether every piece passed verification.
func (t *Torrent) Complete() bool { return t.complete }
