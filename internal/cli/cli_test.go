package cli

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"
)

func TestEnvFillsFlagsNotGivenOnTheCommandLine(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	addr := fs.String("http-addr", ":6969", "")
	iv := fs.Duration("interval", time.Minute, "")
	if err := fs.Parse([]string{"--http-addr", ":1"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRACKER_HTTP_ADDR": ":2", "TRACKER_INTERVAL": "5m"}
	if err := ApplyEnv(fs, "TRACKER", func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if *addr != ":1" || *iv != 5*time.Minute {
		t.Fatalf("http-addr %q interval %s: want the flag to win and the env to fill the rest", *addr, *iv)
	}
}

func TestBadEnvValueNamesTheVariable(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Duration("interval", time.Minute, "")
	_ = fs.Parse(nil)
	err := ApplyEnv(fs, "TRACKER", func(k string) (string, bool) { return "soon", k == "TRACKER_INTERVAL" })
	if err == nil || !strings.Contains(err.Error(), "TRACKER_INTERVAL") {
		t.Fatalf("err = %v, want one naming TRACKER_INTERVAL", err)
	}
}

func TestUsageListsEveryFlagWithItsVariable(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("allow-list", "", "a `FILE` of hex info hashes")
	fs.Bool("full-scrape", false, "allow full scrape")
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	Usage(fs, "TRACKER", "Usage: tracker [flags]", "")()
	for _, want := range []string{"--allow-list FILE", "TRACKER_ALLOW_LIST", "--full-scrape", "TRACKER_FULL_SCRAPE"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestLoggerRejectsUnknownLevelAndFormat(t *testing.T) {
	if _, err := Logger(&bytes.Buffer{}, "loud", "text"); err == nil {
		t.Error("unknown level accepted")
	}
	if _, err := Logger(&bytes.Buffer{}, "info", "xml"); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := Logger(&bytes.Buffer{}, "debug", "json"); err != nil {
		t.Error(err)
	}
}
