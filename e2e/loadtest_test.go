package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/loadtest/trackerload"
)

// runLoadtest runs the loadtest binary and decodes its JSON report.
func runLoadtest(t *testing.T, bin string, args ...string) *trackerload.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(args, "--json")...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("loadtest %v: %v\n%s", args, err, stderr.String())
	}
	var rep trackerload.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("loadtest %v: report is not JSON: %v\n%s", args, err, stdout.String())
	}
	if err := rep.Check(); err != nil {
		t.Errorf("loadtest %v: report does not add up: %v", args, err)
	}
	return &rep
}

// startOpentracker runs Debian's opentracker on one free port for HTTP and
// UDP, serving the torrents listed in whitelist (hex, one per line).
func startOpentracker(t *testing.T, whitelist []byte) int {
	t.Helper()
	bin := testenv.LookPath(t, "opentracker")
	dir := t.TempDir()
	// opentracker chroots into dir and drops to nobody: it must be readable.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "whitelist.txt"), whitelist, 0o644); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	p := fmt.Sprint(port)
	testenv.Start(t, bin, []string{"-i", "127.0.0.1", "-p", p, "-P", p, "-d", dir, "-w", "whitelist.txt", "-u", "nobody"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := testenv.WaitTCP(ctx, "127.0.0.1:"+p); err != nil {
		t.Fatal(err)
	}
	return port
}

// TestLoadtestDrivesOurTrackerAndOpentrackerOverHTTPAndUDP is what
// `make bench-tracker` does, briefly: the same load against both
// trackers, both protocols, with every request answered.
func TestLoadtestDrivesOurTrackerAndOpentrackerOverHTTPAndUDP(t *testing.T) {
	lt := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/loadtest")
	hashes, err := exec.Command(lt, "infohashes", "--torrents", "100").Output()
	if err != nil {
		t.Fatalf("loadtest infohashes: %v", err)
	}
	udpPort := testenv.FreeUDPPort(t)
	ours := startTracker(t, "", nil, "--udp-addr", fmt.Sprintf("127.0.0.1:%d", udpPort), "--log-level", "warn")
	ot := startOpentracker(t, hashes)
	targets := []struct {
		name string
		url  string
		conn string
	}{
		{"ours http", ours.announceURL(), "keepalive"},
		{"ours udp", fmt.Sprintf("udp://127.0.0.1:%d", udpPort), "keepalive"},
		// opentracker closes every connection after its answer.
		{"opentracker http", fmt.Sprintf("http://127.0.0.1:%d/announce", ot), "close"},
		{"opentracker udp", fmt.Sprintf("udp://127.0.0.1:%d", ot), "keepalive"},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			rep := runLoadtest(t, lt, "tracker", tg.url, "--rate", "300", "--duration", "1s", "--warmup", "300ms",
				"--torrents", "100", "--peers", "1000", "--conn", tg.conn, "--quiet")
			if rep.Errors != 0 || len(rep.FailureReasons) != 0 {
				t.Errorf("errors %v (%v), failures %v", rep.ErrorClasses, rep.ErrorExamples, rep.FailureReasons)
			}
			if rep.Responses < 250 || rep.Actions["scrape"].OK == 0 || rep.PeersPerAnswer == 0 {
				t.Errorf("%d responses, actions %v, %.1f peers per answer", rep.Responses, rep.Actions, rep.PeersPerAnswer)
			}
		})
	}
}
