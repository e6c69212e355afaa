package e2e

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// runScript runs scripts/run.sh (what `make run` does) with the real binaries
// and the given ports, and returns its output, exit code and run time. A
// script still running after a minute is stopped with SIGTERM, which its trap
// turns into stopping what it started.
func runScript(t *testing.T, trackerPort int, env ...string) (string, int, time.Duration) {
	t.Helper()
	bin := filepath.Dir(testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/tracker"))
	testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/seeder")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "scripts", "run.sh"))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(cmd.Environ(),
		"BIN="+bin,
		"RUN_DIR="+t.TempDir(),
		"TRACKER_PORT="+strconv.Itoa(trackerPort),
		"ADMIN_PORT="+strconv.Itoa(testenv.FreeTCPPort(t)),
		"SEEDER_PORT="+strconv.Itoa(testenv.FreeTCPPort(t)),
		"SEEDER_ADMIN_PORT="+strconv.Itoa(testenv.FreeTCPPort(t)),
	)
	cmd.Env = append(cmd.Env, env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0, took
	case errors.As(err, &ee):
		return string(out), ee.ExitCode(), took
	}
	t.Fatalf("run.sh: %v\n%s", err, out)
	return "", 0, 0
}

func TestRunScriptStopsAtOnceNamingATakenUDPPort(t *testing.T) {
	// Another tracker's UDP socket: the TCP port of the same number is free.
	held, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.LocalAddr().(*net.UDPAddr).Port
	out, code, took := runScript(t, port)
	if code == 0 || !strings.Contains(out, "UDP port "+strconv.Itoa(port)) {
		t.Fatalf("exit %d after %s, want a failure naming UDP port %d; output:\n%s", code, took, port, out)
	}
	if took > 10*time.Second {
		t.Fatalf("took %s to say the port is taken", took)
	}
}

func TestRunScriptReportsATrackerThatExitsAtOnce(t *testing.T) {
	// The environment reaches the tracker as its flags; a bad one makes it
	// exit as soon as it starts, after every port check has passed.
	out, code, took := runScript(t, testenv.FreePort(t), "TRACKER_LOG_LEVEL=loud")
	if code == 0 || !strings.Contains(out, "tracker exited") || !strings.Contains(out, "loud") {
		t.Fatalf("exit %d after %s, want the tracker's exit and its log; output:\n%s", code, took, out)
	}
	if took > 20*time.Second {
		t.Fatalf("took %s to report a tracker that had exited", took)
	}
}
