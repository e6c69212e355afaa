package catalogue

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/seeder"
	"github.com/bitorigin/bitorigin/seeder/content"
)

// serve runs a seeder of torrents on a loopback port until the test ends.
func serve(t *testing.T, logs *testenv.LogBuffer, torrents ...*content.Torrent) *seeder.Seeder {
	t.Helper()
	s, err := seeder.New(seeder.Config{Logger: logs.Logger()}, torrents)
	if err != nil {
		t.Fatal(err)
	}
	testenv.ServeLoopback(t, s.Serve, logs)
	return s
}

// The catalogue is stepped by hand under a clock the test moves, and file
// times are set from that clock, so a slow copy's pauses are exact however
// busy the machine is (Run is only a ticker around step).
func TestCataloguePublishesSettledEntriesAndWithdrawsRemovedOnes(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	clock := time.Now()
	touch := func(path string) {
		t.Helper()
		if err := os.Chtimes(path, clock, clock); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(data, "old.bin")
	testenv.WriteData(t, old, 50000, 1)
	past := clock.Add(-time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(data, "fresh.bin")
	testenv.WriteData(t, fresh, 40000, 2)
	touch(fresh)
	var logs testenv.LogBuffer
	const settle = 400 * time.Millisecond
	cat, err := New(Config{
		Load:     content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(work, "torrents"), PieceLength: 16 << 10, Logger: logs.Logger()},
		Interval: 20 * time.Millisecond,
		Settle:   settle,
	})
	if err != nil {
		t.Fatal(err)
	}
	cat.now = func() time.Time { return clock }
	torrents, err := cat.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(torrents) != 1 || torrents[0].Name() != "old.bin" {
		t.Fatalf("Scan published %d torrents, want old.bin only", len(torrents))
	}
	s := serve(t, &logs, torrents...)
	served := func(name string) bool { return s.Torrent(name) != nil }
	step := func(d time.Duration) {
		t.Helper()
		clock = clock.Add(d)
		if err := cat.step(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}

	step(settle - time.Millisecond)
	if served("fresh.bin") {
		t.Fatal("fresh.bin published before it settled")
	}
	step(time.Millisecond)
	if !served("fresh.bin") {
		t.Fatal("fresh.bin not published once settled")
	}

	// A slow copy: three parts, with pauses shorter than the settle period.
	slow := filepath.Join(data, "album", "slow.bin")
	full := testenv.WriteData(t, filepath.Join(work, "src.bin"), 300000, 3)
	if err := os.MkdirAll(filepath.Dir(slow), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(slow)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 3 {
		if _, err := f.Write(full[i*100000 : (i+1)*100000]); err != nil {
			t.Fatal(err)
		}
		touch(slow)
		step(0)
		step(settle * 3 / 4)
		if served("album") {
			t.Fatalf("album published after %d of 3 parts", i+1)
		}
	}
	f.Close()
	step(settle / 4)
	if !served("album") {
		t.Fatal("album not published once settled")
	}
	if got := s.Torrent("album").Meta.Info.TotalLength(); got != int64(len(full)) {
		t.Fatalf("album published with %d bytes, want %d", got, len(full))
	}

	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	step(0)
	if served("old.bin") {
		t.Fatal("old.bin still served after its removal")
	}
	if len(s.Status()) != 2 {
		t.Fatalf("status %+v", s.Status())
	}

	// A served file that changes is withdrawn, then published again.
	before := s.Torrent("fresh.bin").InfoHash()
	testenv.WriteData(t, fresh, 40001, 4)
	touch(fresh)
	step(0)
	if served("fresh.bin") {
		t.Fatal("changed fresh.bin still served")
	}
	step(settle)
	if tor := s.Torrent("fresh.bin"); tor == nil || tor.InfoHash() == before {
		t.Fatal("changed fresh.bin not published again once settled")
	}
}
