package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/internal/cli"
)

func TestServeHelpDocumentsWebSeedRegistrationAndWatching(t *testing.T) {
	_, stdout, _ := seeder(t, "serve", "--help")
	for _, flag := range []string{"--webseed-addr", "--webseed-url", "--register-url", "--register-token-file",
		"SEEDER_REGISTER_TOKEN", "--watch", "--watch-interval", "--settle", "url-list"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("serve --help does not mention %s", flag)
		}
	}
}

func TestServeRefusesBadWebSeedRegistrationAndWatchSettings(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("s3cret-token-of-some-length\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"serve", "--data", dir, "--torrents", dir, "--listen", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}
	for _, c := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"--webseed-url", "ftp://origin/"}, "--webseed-url"},
		{"", []string{"--webseed-url", "http://origin/?x=1"}, "--webseed-url"},
		{"", []string{"--webseed-url", "/seed/"}, "--webseed-url"},
		{"", []string{"--register-url", "http://tracker:6970"}, "admin token"},
		{"", []string{"--register-url", "tracker:6970", "--register-token-file", token}, "--register-url"},
		{"", []string{"--register-token-file", filepath.Join(dir, "missing")}, "--register-token-file"},
		{"s3cret-token-of-some-length", []string{"--register-token-file", token}, "keep one"},
		{"", []string{"--watch", "--watch-interval", "0s"}, "--watch-interval"},
		{"", []string{"--watch", "--settle", "-1s"}, "--settle"},
	} {
		t.Setenv(registerTokenEnv, c.env)
		code, _, stderr := seeder(t, append(base, c.args...)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want usage error mentioning %q", c.args, code, stderr, c.want)
		}
	}
}
