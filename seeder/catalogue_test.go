package seeder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCataloguePublishesSettledEntriesAndWithdrawsRemovedOnes(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	old := filepath.Join(data, "old.bin")
	writeData(t, old, 50000, 1)
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	writeData(t, filepath.Join(data, "fresh.bin"), 40000, 2)
	var logs logBuffer
	const settle = 400 * time.Millisecond
	cat, err := NewCatalogue(CatalogueConfig{
		Load:     LoadConfig{DataDir: data, TorrentDir: filepath.Join(work, "torrents"), PieceLength: 16 << 10, Logger: logs.logger()},
		Interval: 20 * time.Millisecond,
		Settle:   settle,
	})
	if err != nil {
		t.Fatal(err)
	}
	torrents, err := cat.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(torrents) != 1 || torrents[0].Name() != "old.bin" {
		t.Fatalf("Scan published %d torrents, want old.bin only", len(torrents))
	}
	s, _ := serveTest(t, Config{Logger: logs.logger()}, torrents...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); cat.Run(ctx, s) }()
	t.Cleanup(func() { cancel(); <-done })
	served := func(name string) bool { return s.Torrent(name) != nil }

	waitUntil(t, "fresh.bin is published", func() bool { return served("fresh.bin") })

	// A slow copy: half, a pause shorter than the settle period, the rest.
	slow := filepath.Join(data, "album", "slow.bin")
	full := writeData(t, filepath.Join(work, "src.bin"), 300000, 3)
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
		time.Sleep(settle * 3 / 4)
		if served("album") {
			t.Fatalf("album published after %d of 3 parts", i+1)
		}
	}
	f.Close()
	waitUntil(t, "album is published", func() bool { return served("album") })
	if got := s.Torrent("album").Meta.Info.TotalLength(); got != int64(len(full)) {
		t.Fatalf("album published with %d bytes, want %d", got, len(full))
	}

	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "old.bin is withdrawn", func() bool { return !served("old.bin") })
	if len(s.Status()) != 2 {
		t.Fatalf("status %+v", s.Status())
	}

	// A served file that changes is withdrawn, then published again.
	fresh := filepath.Join(data, "fresh.bin")
	before := s.Torrent("fresh.bin").InfoHash()
	writeData(t, fresh, 40001, 4)
	waitUntil(t, "changed fresh.bin is withdrawn", func() bool { return !served("fresh.bin") })
	waitUntil(t, "changed fresh.bin is published again", func() bool {
		tor := s.Torrent("fresh.bin")
		return tor != nil && tor.InfoHash() != before
	})
}
