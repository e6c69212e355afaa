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
	r := &Record{Files: []File{{"a", 1, 10}, {"b", 2, 20}, {"c", 3, 30}}}
	got := r.Unchanged([]File{{"a", 1, 10}, {"b", 2, 21}, {"c", 4, 30}, {"d", 1, 1}})
	if want := []bool{true, false, false, false}; !slices.Equal(got, want) {
		t.Fatalf("Unchanged = %v, want %v", got, want)
	}
}
