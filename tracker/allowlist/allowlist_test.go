package allowlist

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
)

const (
	hexA = "0123456789abcdef0123456789abcdef01234567"
	hexB = "fedcba9876543210fedcba9876543210fedcba98"
)

func mustHash(t *testing.T, s string) tracker.InfoHash {
	t.Helper()
	h, err := tracker.ParseInfoHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseAcceptsCommentsBlankLinesAndUpperCase(t *testing.T) {
	set, err := Parse(strings.NewReader("# release 1\n\n" + strings.ToUpper(hexA) + "  # the ISO\n\t" + hexB + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 2 {
		t.Fatalf("got %d hashes, want 2", len(set))
	}
	if _, ok := set[mustHash(t, hexA)]; !ok {
		t.Fatal("upper-case hash missing")
	}
}

func TestParseNamesTheBadLine(t *testing.T) {
	for _, in := range []string{hexA + "\nnot-a-hash\n", hexA + "\n" + hexA[:39] + "\n", hexA + "\n" + hexA + "zz\n"} {
		_, err := Parse(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("Parse(%q) = %v, want an error naming line 2", in, err)
		}
	}
}

func TestLoadFailsOnMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope.txt"), nil); err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
}

func TestReloadKeepsOldListOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allow.txt")
	write(t, path, hexA+"\n")
	l, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, "garbage\n")
	if _, err := l.Reload(); err == nil {
		t.Fatal("reload of a bad file succeeded")
	}
	if !l.Allowed(mustHash(t, hexA)) {
		t.Fatal("a failed reload dropped the list in force")
	}
}

func TestWatchReloadsOnSignalAndOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allow.txt")
	write(t, path, hexA+"\n")
	l, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() { l.Watch(ctx, sig, 20*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	// A change of content is noticed by polling.
	write(t, path, hexA+"\n"+hexB+"\n")
	waitFor(t, func() bool { return l.Allowed(mustHash(t, hexB)) })

	// A signal reloads even when size and time look the same.
	write(t, path, hexB+"\n")
	sig <- os.Interrupt
	waitFor(t, func() bool { return !l.Allowed(mustHash(t, hexA)) })
}

func write(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// Rename, as editors and config tools do, so the inode changes.
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "the allow list to change", cond)
}
