package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
)

const tracker = "http://127.0.0.1:6969/announce"

var infoHashLine = regexp.MustCompile(`(?m)^info hash: +([0-9a-f]{40})$`)

// dataSet writes a small folder whose files straddle 16 KiB pieces.
func dataSet(t *testing.T) (root, folder string) {
	t.Helper()
	root = t.TempDir()
	folder = filepath.Join(root, "release")
	testenv.WriteRandomFile(t, filepath.Join(folder, "a.bin"), 50000, 1)
	testenv.WriteRandomFile(t, filepath.Join(folder, "docs", "b.txt"), 7000, 2)
	return root, folder
}

func TestCreateWritesTheTorrentAndPrintsInfoHashAndMagnet(t *testing.T) {
	root, folder := dataSet(t)
	out := filepath.Join(root, "release.torrent")
	// Flags both before and after PATH, as people type them.
	code, stdout, stderr := seeder(t, "create", "--piece-length", "16K", folder, "-t", tracker,
		"-t", "http://b.example/announce,udp://c.example:6969", "-w", "http://ws.example/files/", "--private",
		"--comment", "first release", "--source", "origin", "--no-date", "-o", out)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tor, err := metainfo.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	m := infoHashLine.FindStringSubmatch(stdout)
	if m == nil || m[1] != tor.InfoHash().String() {
		t.Fatalf("stdout does not print info hash %s:\n%s", tor.InfoHash(), stdout)
	}
	if !strings.Contains(stdout, "magnet:    "+tor.Magnet().String()+"\n") {
		t.Fatalf("stdout does not print the magnet link:\n%s", stdout)
	}
	want := [][]string{{tracker}, {"http://b.example/announce", "udp://c.example:6969"}}
	if got := tor.Trackers(); !equalTiers(got, want) {
		t.Fatalf("tiers %q, want %q", got, want)
	}
	if tor.Info.PieceLength != 16384 || !tor.Info.Private || tor.Info.Source != "origin" || tor.Comment != "first release" ||
		!tor.CreationDate.IsZero() || len(tor.WebSeeds) != 1 || !strings.HasPrefix(tor.CreatedBy, "bitorigin/") {
		t.Fatalf("flags not applied: %+v", tor)
	}
}

func equalTiers(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], " ") != strings.Join(b[i], " ") {
			return false
		}
	}
	return true
}

func TestCreateWritesNameDotTorrentByDefault(t *testing.T) {
	_, folder := dataSet(t)
	t.Chdir(t.TempDir())
	if code, _, stderr := seeder(t, "create", folder, "-t", tracker); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := metainfo.Load("release.torrent"); err != nil {
		t.Fatal(err)
	}
}

func TestCreateRefusesToOverwriteUnlessForced(t *testing.T) {
	root, folder := dataSet(t)
	out := filepath.Join(root, "x.torrent")
	if err := os.WriteFile(out, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := seeder(t, "create", folder, "-t", tracker, "-o", out)
	if code != cli.ExitFailure || !strings.Contains(stderr, "already exists (use --force") {
		t.Fatalf("exit %d, stderr %q; want 1 and a hint at --force", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Fatalf("existing file changed to %q", b)
	}
	if code, _, stderr := seeder(t, "create", folder, "-t", tracker, "-o", out, "--force"); code != cli.ExitOK {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if _, err := metainfo.Load(out); err != nil {
		t.Fatalf("--force did not write a torrent: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, ".x.torrent.tmp*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}

func TestCreateErrorsAreClearAndExitNonZero(t *testing.T) {
	root, folder := dataSet(t)
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		mention string
	}{
		{"missing path", []string{filepath.Join(root, "nope"), "-t", tracker}, cli.ExitFailure, "no such file or directory"},
		{"empty folder", []string{empty, "-t", tracker}, cli.ExitFailure, "has no files"},
		{"no tracker", []string{folder}, cli.ExitUsage, "at least one -t"},
		{"no path", []string{"-t", tracker}, cli.ExitUsage, "want 1 argument"},
		{"two paths", []string{folder, folder, "-t", tracker}, cli.ExitUsage, "want 1 argument"},
		{"bad tracker", []string{folder, "-t", "tracker.example"}, cli.ExitFailure, `"tracker.example" is not an absolute`},
		{"unknown flag", []string{folder, "-t", tracker, "--frobnicate"}, cli.ExitUsage, "frobnicate"},
		{"size that is not a size", []string{folder, "-t", tracker, "--piece-length", "big"}, cli.ExitUsage, `size "big"`},
		{"piece length not a power of two", []string{folder, "-t", tracker, "--piece-length", "100K"}, cli.ExitFailure, "not a power of two"},
		{"output folder missing", []string{folder, "-t", tracker, "-o", filepath.Join(root, "no", "x.torrent")}, cli.ExitFailure, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := seeder(t, append([]string{"create"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.mention) || !strings.HasPrefix(stderr, "seeder create: ") {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.mention)
			}
		})
	}
}

// TestCreateReportsAnUnreadableFile runs the real binary as an unprivileged
// user when the test runs as root, since root can read any file.
func TestCreateReportsAnUnreadableFile(t *testing.T) {
	bin := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/seeder")
	root, folder := dataSet(t)
	locked := filepath.Join(folder, "docs", "b.txt")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "create", folder, "-t", tracker, "-o", filepath.Join(root, "x.torrent"))
	if os.Geteuid() == 0 {
		const nobody = 65534
		// The temporary folders are private to root; let nobody in.
		for d := folder; d != filepath.Clean(os.TempDir()) && d != "/"; d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != cli.ExitFailure {
		t.Fatalf("err %v, output %s; want exit 1", err, out)
	}
	if want := "open " + locked + ": permission denied"; !strings.Contains(string(out), want) {
		t.Fatalf("output %q does not contain %q", out, want)
	}
}

func TestBinaryExitStatuses(t *testing.T) {
	bin := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/seeder")
	tests := []struct {
		args []string
		code int
	}{
		{nil, cli.ExitUsage},
		{[]string{"--help"}, cli.ExitOK},
		{[]string{"create", "--help"}, cli.ExitOK},
		{[]string{"bogus"}, cli.ExitUsage},
		{[]string{"info", filepath.Join(t.TempDir(), "missing.torrent")}, cli.ExitFailure},
	}
	for _, tt := range tests {
		err := exec.Command(bin, tt.args...).Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code {
			t.Errorf("seeder %q exited %d, want %d", tt.args, code, tt.code)
		}
	}
}

func TestInfoShowsEverythingAboutATorrent(t *testing.T) {
	root, folder := dataSet(t)
	out := filepath.Join(root, "r.torrent")
	if code, _, stderr := seeder(t, "create", folder, "-t", tracker, "-t", "udp://b.example:1,udp://c.example:2",
		"-w", "http://ws.example/", "--piece-length", "16384", "--comment", "hello", "-o", out); code != cli.ExitOK {
		t.Fatal(stderr)
	}
	tor, err := metainfo.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := seeder(t, "info", out)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"name:         release\n",
		"info hash:    " + tor.InfoHash().String() + "\n",
		"size:         55.7 KiB (57000 bytes)\n",
		"piece length: 16.0 KiB (16384 bytes)\n",
		"pieces:       4\n",
		"private:      no\n",
		"comment:      hello\n",
		"files (2):\n",
		"48.8 KiB  release/a.bin\n",
		"6.8 KiB  release/docs/b.txt\n",
		"tier 1: " + tracker + "\n",
		"tier 2: udp://b.example:1 udp://c.example:2\n",
		"web seeds (1):\n  http://ws.example/\n",
		"magnet: " + tor.Magnet().String() + "\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("info output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestInfoRejectsBrokenTorrentsNamingTheField(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.torrent")
	if err := os.WriteFile(bad, []byte("d4:infod6:lengthi1e4:name2:..12:piece lengthi16384e6:pieces20:01234567890123456789ee"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := seeder(t, "info", bad)
	if code != cli.ExitFailure || !strings.Contains(stderr, bad) || !strings.Contains(stderr, "info.name") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = seeder(t, "info", filepath.Join(dir, "missing.torrent"))
	if code != cli.ExitFailure || !strings.Contains(stderr, "no such file") {
		t.Fatalf("missing file: exit %d, stderr %q", code, stderr)
	}
}

func TestVerifyExitsZeroOnlyWhenEveryPieceMatches(t *testing.T) {
	root, folder := dataSet(t)
	out := filepath.Join(root, "r.torrent")
	if code, _, stderr := seeder(t, "create", folder, "-t", tracker, "--piece-length", "16K", "-o", out); code != cli.ExitOK {
		t.Fatal(stderr)
	}
	code, stdout, stderr := seeder(t, "verify", out, root)
	if code != cli.ExitOK || !strings.Contains(stdout, "all 4 pieces OK") {
		t.Fatalf("intact data: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	a := filepath.Join(folder, "a.bin")
	data, _ := os.ReadFile(a)
	data[100] ^= 1
	if err := os.WriteFile(a, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = seeder(t, "verify", out, root)
	if code != cli.ExitFailure || !strings.Contains(stdout, a+": wrong data (1 bad pieces)") ||
		!strings.Contains(stdout, "3 of 4 pieces OK: 1 hold wrong data") || !strings.Contains(stderr, "verification failed") {
		t.Fatalf("corrupt data: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	b := filepath.Join(folder, "docs", "b.txt")
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = seeder(t, "verify", out, root)
	if code != cli.ExitFailure || !strings.Contains(stdout, b+": missing") {
		t.Fatalf("missing file: exit %d, stdout %q", code, stdout)
	}

	code, _, stderr = seeder(t, "verify", out, filepath.Join(root, "nope"))
	if code != cli.ExitFailure || !strings.Contains(stderr, "no such file") {
		t.Fatalf("missing data folder: exit %d, stderr %q", code, stderr)
	}
}

func TestHelpExplainsEveryCommandAndFlag(t *testing.T) {
	code, stdout, _ := seeder(t, "--help")
	if code != cli.ExitOK {
		t.Fatalf("seeder --help exited %d", code)
	}
	for _, c := range subcommands() {
		if !strings.Contains(stdout, "  "+c.Name+" ") {
			t.Errorf("seeder --help does not list %s:\n%s", c.Name, stdout)
		}
		code, help, _ := seeder(t, c.Name, "--help")
		if code != cli.ExitOK || !strings.HasPrefix(help, "Usage: seeder "+c.Name+" "+c.Args) {
			t.Errorf("seeder %s --help: exit %d:\n%s", c.Name, code, help)
		}
		c.Flags.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(help, "  "+cli.FlagSynopsis(f)+"\n") || f.Usage == "" {
				t.Errorf("seeder %s --help does not explain %s:\n%s", c.Name, f.Name, help)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"262144", 262144},
		{"256K", 256 << 10},
		{"256k", 256 << 10},
		{"256KiB", 256 << 10},
		{"1M", 1 << 20},
		{"16MiB", 16 << 20},
		{"1G", 1 << 30},
		{"4096B", 4096},
	}
	for _, tt := range tests {
		if got, err := cli.ParseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("cli.ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "K", "1.5M", "-1M", "0", "1T", "1KB", "99999999999G"} {
		if got, err := cli.ParseSize(bad); err == nil {
			t.Errorf("cli.ParseSize(%q) = %d, want an error", bad, got)
		}
	}
}
