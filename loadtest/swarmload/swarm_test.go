package swarmload

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder"
	"github.com/bitorigin/bitorigin/seeder/content"
)

// startSeeder seeds one random file of size bytes from an in-process
// seeder on a loopback port, with trackers written into its torrent, and
// returns the torrent and the seeder's address.
func startSeeder(t *testing.T, size int64, slots int, trackers ...string) (*metainfo.Torrent, string) {
	t.Helper()
	return startSeederWith(t, size, seeder.Config{UploadSlots: slots, AnnounceMinBackoff: 100 * time.Millisecond}, trackers...)
}

// startSeederWith is startSeeder with the seeder's whole configuration.
func startSeederWith(t *testing.T, size int64, cfg seeder.Config, trackers ...string) (*metainfo.Torrent, string) {
	t.Helper()
	dir := t.TempDir()
	data, torrents := filepath.Join(dir, "data"), filepath.Join(dir, "torrents")
	for _, d := range []string{data, torrents} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WriteRandomFile(t, filepath.Join(data, "payload.bin"), size, 7)
	var tiers [][]string
	for _, tr := range trackers {
		tiers = append(tiers, []string{tr})
	}
	ctx, cancel := context.WithCancel(context.Background())
	loaded, err := content.Load(ctx, content.LoadConfig{DataDir: data, TorrentDir: torrents, Trackers: tiers, PieceLength: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s, err := seeder.New(cfg, loaded)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("seeder: %v", err)
		}
	})
	return loaded[0].Meta, ln.Addr().String()
}

func TestEveryLeecherDownloadsAndVerifiesEverything(t *testing.T) {
	tor, addr := startSeeder(t, 3<<20+12345, 8)
	rep, err := Run(context.Background(), Config{Torrent: tor, Seeder: addr, Leechers: 8, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.WriteText(&out)
	t.Log("\n" + out.String())
	if rep.Completed != 8 || rep.Failed != 0 {
		t.Fatalf("completed %d, failed %d: %v", rep.Completed, rep.Failed, rep.ErrorExamples)
	}
	if want := 8 * tor.Info.TotalLength(); rep.Bytes != want {
		t.Errorf("verified %d bytes, want %d", rep.Bytes, want)
	}
	if err := rep.Check(); err != nil {
		t.Error(err)
	}
	if rep.HashFailures != 0 || rep.MBps <= 0 {
		t.Errorf("hash failures %d, rate %g MB/s", rep.HashFailures, rep.MBps)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(); err != nil {
		t.Errorf("report after a JSON round trip: %v", err)
	}
}

// Leechers that do not trade take from an offloading seeder (the seeder's
// default) only the pieces it reveals to them, as they come, and still
// complete: it serves a leecher the swarm does not feed at full speed.
func TestLeechersThatDoNotTradeCompleteFromAnOffloadingSeeder(t *testing.T) {
	tor, addr := startSeederWith(t, 1<<20+777, seeder.Config{Offload: true})
	rep, err := Run(context.Background(), Config{Torrent: tor, Seeder: addr, Leechers: 4, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 4 || rep.Failed != 0 || rep.Bytes != 4*tor.Info.TotalLength() {
		t.Fatalf("completed %d, failed %d, %d bytes verified: %v", rep.Completed, rep.Failed, rep.Bytes, rep.ErrorExamples)
	}
}

func TestMagnetFetchesTheInfoFromTheSeeder(t *testing.T) {
	tor, addr := startSeeder(t, 200<<10, 4)
	m := tor.Magnet()
	rep, err := Run(context.Background(), Config{Magnet: &m, Seeder: addr, Leechers: 2, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 2 || rep.InfoHash != tor.InfoHash().String() {
		t.Fatalf("completed %d of 2, info hash %s: %v", rep.Completed, rep.InfoHash, rep.ErrorExamples)
	}
}

func TestARefusedSeederFailsEveryLeecherWithAClass(t *testing.T) {
	tor, _ := startSeeder(t, 64<<10, 1)
	addr := "127.0.0.1:" + itoa(testenv.FreeTCPPort(t))
	rep, err := Run(context.Background(), Config{Torrent: tor, Seeder: addr, Leechers: 3, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 3 || rep.Errors[errRefused] != 3 {
		t.Fatalf("failed %d, errors %v", rep.Failed, rep.Errors)
	}
	if err := rep.Check(); err != nil {
		t.Error(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
