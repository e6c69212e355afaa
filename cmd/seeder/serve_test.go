package main

import (
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/internal/cli"
)

func TestServeHelpDocumentsEveryFlag(t *testing.T) {
	code, stdout, _ := seeder(t, "serve", "--help")
	if code != cli.ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"--data", "--torrents", "--tracker", "--listen", "--admin-addr", "--announce-ip",
		"--upload-slots", "--upload-rate", "--max-conns", "--max-conns-per-torrent", "--idle-timeout",
		"--write-timeout", "--keep-alive", "--max-request", "--reqq", "--encryption", "require", "SEEDER_"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("serve --help does not mention %s", flag)
		}
	}
}

func TestServeRefusesBadConfiguration(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--torrents", dir}, "--data and --torrents are required"},
		{[]string{"--data", dir, "--torrents", dir, "--max-request", "1M"}, "max request"},
		{[]string{"--data", dir, "--torrents", dir, "--announce-ip", "nowhere"}, "--announce-ip"},
		{[]string{"--data", dir, "--torrents", dir, "--upload-rate", "fast"}, "--upload-rate"},
		{[]string{"--data", dir, "--torrents", dir, "--encryption", "always"}, "--encryption"},
	} {
		code, _, stderr := seeder(t, append([]string{"serve"}, c.args...)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want usage error mentioning %q", c.args, code, stderr, c.want)
		}
	}
}

func TestServeReadsItsFlagsFromTheEnvironment(t *testing.T) {
	t.Setenv("SEEDER_DATA", "/nonexistent/content")
	t.Setenv("SEEDER_LISTEN", "127.0.0.1:0")
	t.Setenv("SEEDER_ADMIN_ADDR", "127.0.0.1:0")
	code, _, stderr := seeder(t, "serve", "--torrents", t.TempDir())
	if code != cli.ExitFailure || !strings.Contains(stderr, "/nonexistent/content") {
		t.Fatalf("exit %d, %q: SEEDER_DATA not used", code, stderr)
	}
}
