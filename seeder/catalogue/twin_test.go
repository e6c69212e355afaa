package catalogue

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

func TestATwinFollowsItsReleaseThroughTheWatchedFolder(t *testing.T) {
	data := contenttest.V2Folder(t)
	past := time.Now().Add(-time.Hour)
	for _, p := range []string{"album/a.bin", "album/b.bin", "album/c.bin", "one.iso"} {
		os.Chtimes(filepath.Join(data, p), past, past)
	}
	var logs testenv.LogBuffer
	cat, err := New(Config{
		Load: content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(filepath.Dir(data), "torrents"), PieceLength: 16 << 10,
			Version: metainfo.Hybrid, V1Twin: true, Logger: logs.Logger()},
		Settle: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	cat.now = func() time.Time { return clock }
	ts, err := cat.Scan(context.Background())
	if err != nil || len(ts) != 4 {
		t.Fatalf("Scan: %d torrents, %v\n%s", len(ts), err, logs.String())
	}
	s := serve(t, &logs, ts...)
	release := func() (hybrid, twin seeder.TorrentStatus) {
		for _, st := range s.Status() {
			switch {
			case st.Name != "album":
			case st.TwinOf != "":
				twin = st
			default:
				hybrid = st
			}
		}
		return hybrid, twin
	}
	hybrid, twin := release()
	if hybrid.InfoHash == "" || twin.TwinOf != hybrid.InfoHash || hybrid.V1Twin != twin.InfoHash {
		t.Fatalf("status: hybrid %+v, twin %+v", hybrid, twin)
	}

	// A file of the release grows: both are withdrawn, then both made
	// again once it settles.
	testenv.WriteData(t, filepath.Join(data, "album", "b.bin"), 5001, 9)
	os.Chtimes(filepath.Join(data, "album", "b.bin"), clock, clock)
	if err := cat.step(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if h, tw := release(); h.InfoHash != "" || tw.InfoHash != "" {
		t.Fatalf("changed release still served: %+v %+v", h, tw)
	}
	clock = clock.Add(2 * time.Second)
	if err := cat.step(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	h2, tw2 := release()
	if h2.InfoHash == "" || tw2.TwinOf != h2.InfoHash || h2.InfoHash == hybrid.InfoHash || tw2.InfoHash == twin.InfoHash {
		t.Fatalf("after the change: hybrid %+v, twin %+v\n%s", h2, tw2, logs.String())
	}
	if tw2.Size != 70000+5001+40000 {
		t.Fatalf("new twin of %d bytes", tw2.Size)
	}

	// Removed: both withdrawn.
	if err := os.RemoveAll(filepath.Join(data, "album")); err != nil {
		t.Fatal(err)
	}
	if err := cat.step(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Status()); got != 2 || slices.ContainsFunc(s.Status(), func(st seeder.TorrentStatus) bool { return st.Name == "album" }) {
		t.Fatalf("after removal: %+v", s.Status())
	}
}
