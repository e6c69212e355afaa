package resume

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSaveThenLoadGivesTheRecordBack(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "resume")}
	r := &Record{InfoHash: "00aa", Pieces: 10, Have: []byte{0xff, 0xc0},
		Files: []File{{Path: "/d/a", Size: 5, ModTime: 123}, {Path: "/d/b", Size: 0, ModTime: 456}}}
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("00aa")
	if err != nil {
		t.Fatal(err)
	}
	if got.InfoHash != r.InfoHash || got.Pieces != 10 || !slices.Equal(got.Have, r.Have) || !slices.Equal(got.Files, r.Files) {
		t.Fatalf("loaded %+v, saved %+v", got, r)
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestLoadWithoutRecordIsNil(t *testing.T) {
	r, err := Store{Dir: t.TempDir()}.Load("00bb")
	if r != nil || err != nil {
		t.Fatalf("Load of a missing record: %v, %v", r, err)
	}
}

func TestLoadRefusesGarbageAndAnotherTorrentsRecord(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	os.WriteFile(filepath.Join(s.Dir, "01.json"), []byte("{not json"), 0o644)
	if _, err := s.Load("01"); err == nil {
		t.Fatal("garbage accepted")
	}
	os.WriteFile(filepath.Join(s.Dir, "02.json"), []byte(`{"info_hash":"03"}`), 0o644)
	if _, err := s.Load("02"); err == nil {
		t.Fatal("record of another torrent accepted")
	}
}

func TestUnchangedComparesSizeAndModificationTime(t *testing.T) {
	r := &Record{Files: []File{{Path: "a", Size: 1, ModTime: 10}, {Path: "b", Size: 2, ModTime: 20}, {Path: "c", Size: 3, ModTime: 30}}}
	got := r.Unchanged([]File{{Path: "a", Size: 1, ModTime: 10}, {Path: "b", Size: 2, ModTime: 21}, {Path: "c", Size: 4, ModTime: 30}, {Path: "d", Size: 1, ModTime: 1}})
	if want := []bool{true, false, false, false}; !slices.Equal(got, want) {
		t.Fatalf("Unchanged = %v, want %v", got, want)
	}
}

// A file replaced by a rename, or rewritten and given its old modification
// time back (rsync -t), keeps size and time but not inode or change time:
// the live watcher notices, and so must the record at the next start.
func TestUnchangedComparesInodeAndChangeTimeWhenRecorded(t *testing.T) {
	was := File{Path: "a", Size: 1, ModTime: 10, ChangeTime: 11, Dev: 1, Inode: 100}
	r := &Record{Files: []File{was}}
	renamed, touched := was, was
	renamed.Inode = 101
	touched.ChangeTime = 12
	got := r.Unchanged([]File{was, renamed, touched})
	if want := []bool{true, false, false}; !slices.Equal(got, want) {
		t.Fatalf("Unchanged = %v, want %v", got, want)
	}
	// A record from before inodes were kept is trusted on size and time.
	old := &Record{Files: []File{{Path: "a", Size: 1, ModTime: 10}}}
	if got := old.Unchanged([]File{was}); !got[0] {
		t.Fatal("an older record without inode and change time distrusts an unchanged file")
	}
}
