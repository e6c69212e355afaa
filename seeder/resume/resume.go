// Package resume keeps, per torrent, what the last verification found: the
// size and modification time of each file and the pieces that matched.
// A seeder that finds its files unchanged at the next start trusts the
// record instead of hashing everything again.
package resume

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is one data file as it was when its pieces were verified: its size
// and modification time and, where the system tells them (Linux), its
// device, inode and change time, as the seeder's live watcher compares.
type File struct {
	Path       string `json:"path"`
	Size       int64  `json:"size"`
	ModTime    int64  `json:"mtime_ns"`
	ChangeTime int64  `json:"ctime_ns,omitempty"`
	Dev        uint64 `json:"dev,omitempty"`
	Inode      uint64 `json:"inode,omitempty"`
}

// Record is what a verification found for one torrent.
type Record struct {
	// InfoHash is the torrent's info hash in hex; a record whose hash does
	// not match the torrent is ignored.
	InfoHash string `json:"info_hash"`
	// Pieces is the torrent's number of pieces.
	Pieces uint32 `json:"pieces"`
	// Have is the verified bitfield, in BEP 3 layout.
	Have []byte `json:"have"`
	// Files lists the torrent's files on disk (padding excluded).
	Files []File `json:"files"`
}

// Unchanged reports, for each file in now, whether the record holds it
// unchanged: the same size and modification time, and the same device,
// inode and change time where the record has them (a record written before
// they were kept is trusted on size and time, rather than making an
// upgrade hash every file again). A file the record does not know is
// changed.
func (r *Record) Unchanged(now []File) []bool {
	known := make(map[string]File, len(r.Files))
	for _, f := range r.Files {
		known[f.Path] = f
	}
	same := make([]bool, len(now))
	for i, f := range now {
		old, ok := known[f.Path]
		if ok && old.Inode == 0 && old.ChangeTime == 0 {
			f.Dev, f.Inode, f.ChangeTime = 0, 0, 0
		}
		same[i] = ok && old == f
	}
	return same
}

// Store keeps records as JSON files in one folder, one per info hash.
type Store struct {
	Dir string
}

func (s Store) path(infoHash string) string { return filepath.Join(s.Dir, infoHash+".json") }

// Load returns the record of a torrent, or nil without an error when there
// is none. A record that cannot be decoded is an error.
func (s Store) Load(infoHash string) (*Record, error) {
	b, err := os.ReadFile(s.path(infoHash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("resume: %s: %w", s.path(infoHash), err)
	}
	if r.InfoHash != infoHash {
		return nil, fmt.Errorf("resume: %s holds info hash %q", s.path(infoHash), r.InfoHash)
	}
	return &r, nil
}

// Save writes a record through a temporary file and a rename, so a crash
// never leaves half a record.
func (s Store) Save(r *Record) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("resume: encode %s: %w", r.InfoHash, err)
	}
	tmp, err := os.CreateTemp(s.Dir, "."+r.InfoHash+".tmp*")
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("resume: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("resume: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), s.path(r.InfoHash)); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	return nil
}
