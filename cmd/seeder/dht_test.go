package main

import (
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/internal/cli"
)

func TestServeHelpExplainsTheDHTFlags(t *testing.T) {
	_, stdout, _ := seeder(t, "serve", "--help")
	for _, want := range []string{"--dht\n", "--dht-addr", "--dht-bootstrap", "--dht-state", "--dht-rate float", "--dht-rate-per-ip",
		"BEP 5", "none by default", "router.bittorrent.com:6881",
		"wildcard address", "behind NAT, set --announce-ip", "port message"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("serve --help does not mention %q", want)
		}
	}
}

func TestServeRefusesBadDHTFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dht-bootstrap", "router.example"}, "bootstrap"},
		{[]string{"--dht-rate", "-1"}, "rate"},
	} {
		args := append([]string{"serve", "--data", dir, "--torrents", dir, "--listen", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, c.args...)
		code, _, stderr := seeder(t, args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want usage error mentioning %q", c.args, code, stderr, c.want)
		}
	}
}
