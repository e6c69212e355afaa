package storage

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// changes records what Config.Changed is told.
type changes struct {
	mu   sync.Mutex
	list []Change
}

func (c *changes) add(ch Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, ch)
}

func (c *changes) take() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.list
	c.list = nil
	return l
}

func TestFilesChangedOnDiskAreReportedAndNotReadAsVerified(t *testing.T) {
	info, root, all := layout(t, []int64{1000, 3000, 500}, nil)
	var got changes
	const interval = 20 * time.Millisecond
	s := New(info, Config{Root: root, CheckInterval: interval, Changed: got.add})
	defer s.Close()
	buf := make([]byte, 100)
	if _, err := s.ReadAt(buf, 1000); err != nil || !bytes.Equal(buf, all[1000:1100]) {
		t.Fatalf("first read: %v", err)
	}
	second := info.FilePath(root, info.Files[1])

	cases := []struct {
		name   string
		change func()
		what   string
		err    error
	}{
		{"rewritten in place, same size", func() {
			f, err := os.OpenFile(second, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("new bytes"), 10)
			f.Close()
		}, "modified", ErrChanged},
		{"replaced by a rename", func() {
			tmp := second + ".tmp"
			os.WriteFile(tmp, make([]byte, 3000), 0o644)
			if err := os.Rename(tmp, second); err != nil {
				t.Fatal(err)
			}
		}, "replaced", ErrChanged},
		{"truncated", func() {
			if err := os.Truncate(second, 50); err != nil {
				t.Fatal(err)
			}
		}, "truncated from 3000 to 50 bytes", ErrShort},
		{"removed", func() {
			if err := os.Remove(second); err != nil {
				t.Fatal(err)
			}
		}, "removed", os.ErrNotExist},
	}
	for _, c := range cases {
		time.Sleep(5 * time.Millisecond) // a new modification time
		c.change()
		// A read of the changed file after the interval fails, whether
		// the change shows in the stat (before the read) or only in the
		// read itself (a truncation read at once).
		if c.err == ErrShort {
			_, err := s.ReadAt(buf, 1000+500)
			if !errors.Is(err, ErrShort) || !errors.Is(err, ErrChanged) {
				t.Fatalf("%s: read past the new end: %v, want ErrShort and ErrChanged", c.name, err)
			}
		} else {
			time.Sleep(2 * interval)
			if _, err := s.ReadAt(buf, 1000); !errors.Is(err, ErrChanged) {
				t.Fatalf("%s: read: %v, want ErrChanged", c.name, err)
			}
		}
		l := got.take()
		if len(l) != 1 || l[0].Offset != 1000 || l[0].Length != 3000 || l[0].Path != second || !strings.Contains(l[0].What, c.what) {
			t.Fatalf("%s: changes %+v, want one of file 1 saying %q", c.name, l, c.what)
		}
		// Once reported, the change is the file's new state: a read says
		// what is wrong with it now, and nothing more is reported.
		if _, err := s.ReadAt(buf, 1000); c.err != ErrChanged && !errors.Is(err, c.err) {
			t.Fatalf("%s: read after the report: %v, want %v", c.name, err, c.err)
		}
		if l := got.take(); len(l) != 0 {
			t.Fatalf("%s: reported again: %+v", c.name, l)
		}
	}
	// The other files were never reported.
	if _, err := s.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, all[:100]) {
		t.Fatalf("untouched file: %v", err)
	}
}

func TestCheckNoticesARepairAndUnchangedComparesWithTheVerifiedFile(t *testing.T) {
	info, root, all := layout(t, []int64{1000, 3000}, nil)
	second := info.FilePath(root, info.Files[1])
	fi, err := os.Stat(second)
	if err != nil {
		t.Fatal(err)
	}
	var got changes
	s := New(info, Config{Root: root, CheckInterval: time.Nanosecond, Changed: got.add})
	defer s.Close()
	if !s.Unchanged(1000, fi) {
		t.Fatal("Unchanged: false for the file as it was")
	}
	if s.Unchanged(0, fi) || s.Unchanged(999, fi) {
		t.Fatal("Unchanged: true at another file's offset")
	}
	time.Sleep(5 * time.Millisecond)
	if err := os.WriteFile(second, all[1000:], 0o644); err != nil {
		t.Fatal(err)
	}
	s.Check(0, 500) // the first file only
	if l := got.take(); len(l) != 0 {
		t.Fatalf("Check of the first file reported %+v", l)
	}
	s.Check(900, 200)
	if l := got.take(); len(l) != 1 || l[0].Offset != 1000 {
		t.Fatalf("Check over both files reported %+v, want the second", l)
	}
	if s.Unchanged(1000, fi) {
		t.Fatal("Unchanged: true for the file as it was before it was written again")
	}
	now, _ := os.Stat(second)
	if !s.Unchanged(1000, now) {
		t.Fatal("Unchanged: false for the file as last examined")
	}
}

// A truncation is a short file whichever way it is found: by the stat of
// the periodic check before a read (here every read, the interval being a
// nanosecond), as by the read itself.
func TestATruncationFoundByTheCheckIsShortToo(t *testing.T) {
	info, root, _ := layout(t, []int64{1000, 3000}, nil)
	s := New(info, Config{Root: root, CheckInterval: time.Nanosecond})
	defer s.Close()
	buf := make([]byte, 100)
	if _, err := s.ReadAt(buf, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(info.FilePath(root, info.Files[1]), 50); err != nil {
		t.Fatal(err)
	}
	// Within the bytes left, so only the check can tell.
	_, err := s.ReadAt(buf[:10], 1000)
	if !errors.Is(err, ErrShort) || !errors.Is(err, ErrChanged) {
		t.Fatalf("read after a truncation: %v, want ErrShort and ErrChanged", err)
	}
}
