package main

import (
	"net/netip"
	"slices"
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
		"--upload-slots", "--upload-rate", "--max-conns", "--max-conns-per-torrent", "--max-conns-per-ip",
		"--conn-limit-exempt", "127.0.0.0/8,::1/128", "--idle-timeout",
		"--write-timeout", "--keep-alive", "--max-request", "--reqq", "--encryption", "require", "SEEDER_",
		"--hybrid", "--v2", "info_hash_v2", "Transmission 3.00", "libtorrent 2"} {
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
		{[]string{"--data", dir, "--torrents", dir, "--conn-limit-exempt", "10.0.0.0/33"}, "--conn-limit-exempt"},
		{[]string{"--data", dir, "--torrents", dir, "--conn-limit-exempt", ","}, "say none"},
		{[]string{"--data", dir, "--torrents", dir, "--max-conns-per-ip", "-1"}, "max conns per IP"},
		{[]string{"--data", dir, "--torrents", dir, "--hybrid", "--v2"}, "exclude each other"},
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

func TestConnLimitExemptDefaultsToLoopbackAndNoneLimitsItToo(t *testing.T) {
	for _, c := range []struct {
		flag string
		want []netip.Prefix
	}{
		{"", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}},
		{"none", []netip.Prefix{}},
		{"10.1.2.3/16, 192.0.2.7,::ffff:198.51.100.1", []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"),
			netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("198.51.100.1/32")}},
	} {
		args := []string{"--data", "d", "--torrents", "t"}
		if c.flag != "" {
			args = append(args, "--conn-limit-exempt", c.flag)
		}
		o := &serveOptions{}
		if err := serveCommandFor(o).Flags.Parse(args); err != nil {
			t.Fatal(err)
		}
		cfg, err := o.seederConfig()
		if err != nil {
			t.Fatalf("%q: %v", c.flag, err)
		}
		if !slices.Equal(cfg.ConnLimitExempt, c.want) || cfg.ConnLimitExempt == nil {
			t.Errorf("--conn-limit-exempt %q: %v, want %v", c.flag, cfg.ConnLimitExempt, c.want)
		}
	}
}
