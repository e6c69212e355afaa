package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/loadtest/swarmload"
	"github.com/bitorigin/bitorigin/loadtest/trackerload"
	"github.com/bitorigin/bitorigin/seeder"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/httpfront"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

// loadtest runs a command line in-process and returns its exit status and
// output.
func loadtest(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// startTracker serves an in-memory tracker over HTTP on loopback and
// returns its announce URL and store.
func startTracker(t *testing.T) (string, tracker.Store) {
	t.Helper()
	store, err := memstore.New(memstore.Config{Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(tracker.Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpfront.New(tr, httpfront.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		store.Close()
	})
	return "http://" + ln.Addr().String() + "/announce", store
}

func TestBadArgumentsExitWithStatusTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "Usage: loadtest"},
		{"unknown command", []string{"stress"}, `unknown command "stress"`},
		{"negative rate", []string{"tracker", "http://127.0.0.1:1/announce", "--rate", "-5"}, "rate -5"},
		{"unknown scheme", []string{"tracker", "gopher://127.0.0.1:1/announce", "--rate", "5"}, `unknown scheme "gopher"`},
		{"no target", []string{"tracker", "--rate", "5"}, "want 1 argument"},
		{"no pace", []string{"tracker", "udp://127.0.0.1:1"}, "pick one pace"},
		{"rate and max", []string{"tracker", "udp://127.0.0.1:1", "--rate", "5", "--max", "2"}, "pick one pace"},
		{"bad conn", []string{"tracker", "udp://127.0.0.1:1", "--rate", "5", "--conn", "sometimes"}, "--conn"},
		{"bad mix", []string{"tracker", "udp://127.0.0.1:1", "--rate", "5", "--mix", "none=x"}, "mix"},
		{"bad popularity", []string{"tracker", "udp://127.0.0.1:1", "--rate", "5", "--popularity", "zipf"}, "popularity"},
		{"unknown flag", []string{"tracker", "udp://127.0.0.1:1", "--rps", "5"}, "rps"},
		{"missing torrent", []string{"swarm", "--leechers", "2"}, "--torrent is required"},
		{"torrent file not found", []string{"swarm", "--torrent", "/nonexistent/x.torrent"}, "no such file"},
		{"bad magnet", []string{"swarm", "--torrent", "magnet:?xt=urn:btih:zz"}, "--torrent"},
		{"negative leechers", []string{"swarm", "--torrent", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "--seeder", "127.0.0.1:1", "--leechers", "-1"}, "leechers -1"},
		{"bad block", []string{"swarm", "--torrent", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "--block", "1G"}, "--block"},
		{"bad leecher upload rate", []string{"swarm", "--torrent", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "--trade", "--leecher-upload-rate", "fast"}, "--leecher-upload-rate"},
		{"too many peers per leecher", []string{"swarm", "--torrent", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567", "--trade", "--peers-per-leecher", "1000"}, "peers per leecher 1000"},
		{"infohashes torrents", []string{"infohashes", "--torrents", "0"}, "--torrents 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := loadtest(t, tt.args...)
			if code != cli.ExitUsage {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, cli.ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not mention %q:\n%s", tt.want, stderr)
			}
		})
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	t.Setenv("LOADTEST_RATE", "-3")
	code, _, stderr := loadtest(t, "tracker", "udp://127.0.0.1:1")
	if code != cli.ExitUsage || !strings.Contains(stderr, "rate -3") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	for _, c := range subcommands() {
		code, stdout, _ := loadtest(t, c.Name, "--help")
		if code != cli.ExitOK {
			t.Errorf("%s --help: exit %d", c.Name, code)
		}
		c.Flags.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(stdout, "--"+f.Name) || f.Usage == "" {
				t.Errorf("%s --help does not explain --%s", c.Name, f.Name)
			}
		})
	}
}

func TestTrackerRunReportsConsistentJSON(t *testing.T) {
	url, _ := startTracker(t)
	code, stdout, stderr := loadtest(t, "tracker", url, "--rate", "500", "--duration", "1s", "--warmup", "200ms",
		"--torrents", "20", "--peers", "300", "--json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var rep trackerload.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	if err := rep.Check(); err != nil {
		t.Error(err)
	}
	if rep.Sent == 0 || rep.Sent != rep.Responses+rep.Errors || rep.Errors != 0 {
		t.Errorf("sent %d, responses %d, errors %d", rep.Sent, rep.Responses, rep.Errors)
	}
	if rep.TargetRate != 500 || rep.Torrents != 20 || rep.Peers != 300 || rep.Duration < 0.9 {
		t.Errorf("report does not describe the run asked for: %+v", rep)
	}
}

func TestTrackerRunWithNoAnswerFails(t *testing.T) {
	port := testenv.FreeUDPPort(t)
	code, stdout, stderr := loadtest(t, "tracker", "udp://127.0.0.1:"+itoa(port), "--rate", "50",
		"--duration", "300ms", "--warmup", "0s", "--timeout", "200ms")
	if code != cli.ExitFailure || !strings.Contains(stderr, "not one of") || !strings.Contains(stdout, "error") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestInfohashesMatchTheTrackerRun(t *testing.T) {
	code, stdout, _ := loadtest(t, "infohashes", "--torrents", "3", "--seed", "9")
	lines := strings.Fields(stdout)
	if code != cli.ExitOK || len(lines) != 3 {
		t.Fatalf("exit %d, output %q", code, stdout)
	}
	for i, h := range trackerload.InfoHashes(3, 9) {
		if lines[i] != hex.EncodeToString(h[:]) {
			t.Errorf("line %d is %s, want %x", i, lines[i], h)
		}
	}
}

// The seeder is found through the tracker whether it shows every piece or,
// under offload, none (our seeder's extension handshake names it).
func TestSwarmFindsTheSeederThroughTheTrackerAndVerifiesEverything(t *testing.T) {
	for _, offload := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "offload"}[offload], func(t *testing.T) {
			url, store := startTracker(t)
			loaded, addr := serveSeeder(t, 1<<20+777, 3, content.LoadConfig{Trackers: [][]string{{url}}, PieceLength: 64 << 10},
				seeder.Config{UploadSlots: 4, Offload: offload})
			// Wait for the seeder's first announce.
			ih := tracker.InfoHash(loaded[0].InfoHash())
			testenv.Eventually(t, 10*time.Second, "the seeder's first announce", func() bool {
				stats := make([]tracker.ScrapeStats, 1)
				return store.Scrape(context.Background(), []tracker.InfoHash{ih}, stats) == nil && stats[0].Seeders == 1
			})
			rep := swarmReport(t, "--torrent", loaded[0].Path, "--leechers", "4")
			if rep.Completed != 4 || rep.Bytes != 4*rep.Size || rep.Seeder != addr {
				t.Errorf("completed %d, bytes %d of size %d, seeder %s (listening on %s)", rep.Completed, rep.Bytes, rep.Size, rep.Seeder, addr)
			}
		})
	}
}

// swarmReport runs `loadtest swarm --json` with args, fails the test unless
// it exits 0 with a report whose counts add up, and returns the report.
func swarmReport(t *testing.T, args ...string) swarmload.Report {
	t.Helper()
	code, stdout, stderr := loadtest(t, append(append([]string{"swarm"}, args...), "--json")...)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var rep swarmload.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	if err := rep.Check(); err != nil {
		t.Error(err)
	}
	return rep
}

// serveSeeder runs, until the test ends, a seeder of one file clip.bin of
// size random bytes (from seed) on a loopback port, and returns its torrent
// and address. load and cfg are completed with the folders.
func serveSeeder(t *testing.T, size int64, seed uint64, load content.LoadConfig, cfg seeder.Config) ([]*content.Torrent, string) {
	t.Helper()
	dir := t.TempDir()
	load.DataDir, load.TorrentDir = filepath.Join(dir, "data"), filepath.Join(dir, "torrents")
	os.Mkdir(load.DataDir, 0o755)
	os.Mkdir(load.TorrentDir, 0o755)
	testenv.WriteRandomFile(t, filepath.Join(load.DataDir, "clip.bin"), size, seed)
	ctx, cancel := context.WithCancel(context.Background())
	loaded, err := content.Load(ctx, load)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s, err := seeder.New(cfg, loaded)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return loaded, ln.Addr().String()
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSwarmTradeFlagsReachTheRunAndTheReport(t *testing.T) {
	loaded, addr := serveSeeder(t, 512<<10+99, 5, content.LoadConfig{PieceLength: 32 << 10}, seeder.Config{Offload: true})
	rep := swarmReport(t, "--torrent", loaded[0].Path, "--seeder", addr,
		"--leechers", "6", "--trade", "--peers-per-leecher", "3", "--leecher-upload-rate", "2M")
	if !rep.Trade || rep.PeersPerLeecher != 3 || rep.LeecherUploadRate != 2<<20 || rep.Completed != 6 {
		t.Errorf("trade %v, peers per leecher %d, upload rate %d, completed %d", rep.Trade, rep.PeersPerLeecher, rep.LeecherUploadRate, rep.Completed)
	}
	if rep.FromPeers == 0 || rep.OriginCopies <= 0 {
		t.Errorf("from peers %d, origin copies %.2f", rep.FromPeers, rep.OriginCopies)
	}
}
