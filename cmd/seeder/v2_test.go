package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/metainfo"
)

var infoHashV2Line = regexp.MustCompile(`(?m)^info hash v2: +([0-9a-f]{64})$`)

// createVersion runs seeder create with a version flag and loads the result.
func createVersion(t *testing.T, flag string) (root, folder, out, stdout string, tor *metainfo.Torrent) {
	t.Helper()
	root, folder = dataSet(t)
	out = filepath.Join(root, "r.torrent")
	code, stdout, stderr := seeder(t, "create", folder, "-t", tracker, "--piece-length", "16K", flag, "-o", out)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tor, err := metainfo.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	return root, folder, out, stdout, tor
}

func TestCreateHybridPrintsBothInfoHashesAndAMagnetWithBoth(t *testing.T) {
	_, _, _, stdout, tor := createVersion(t, "--hybrid")
	v1, _ := tor.InfoHashV1()
	v2, _ := tor.InfoHashV2()
	if tor.Info.Version() != metainfo.Hybrid {
		t.Fatalf("version %v, want hybrid", tor.Info.Version())
	}
	if m := infoHashLine.FindStringSubmatch(stdout); m == nil || m[1] != v1.String() {
		t.Fatalf("stdout lacks the v1 info hash %s:\n%s", v1, stdout)
	}
	if m := infoHashV2Line.FindStringSubmatch(stdout); m == nil || m[1] != v2.String() {
		t.Fatalf("stdout lacks the v2 info hash %s:\n%s", v2, stdout)
	}
	magnet := "magnet:?xt=urn:btih:" + v1.String() + "&xt=urn:btmh:1220" + v2.String() + "&dn=release"
	if !strings.Contains(stdout, magnet) {
		t.Fatalf("stdout lacks a magnet link starting %s:\n%s", magnet, stdout)
	}
}

func TestCreateV2PrintsOnlyTheV2InfoHash(t *testing.T) {
	_, _, _, stdout, tor := createVersion(t, "--v2")
	v2, _ := tor.InfoHashV2()
	if tor.Info.Version() != metainfo.V2 || infoHashLine.MatchString(stdout) {
		t.Fatalf("version %v; stdout:\n%s", tor.Info.Version(), stdout)
	}
	if m := infoHashV2Line.FindStringSubmatch(stdout); m == nil || m[1] != v2.String() {
		t.Fatalf("stdout lacks the v2 info hash %s:\n%s", v2, stdout)
	}
	if !strings.Contains(stdout, "magnet:?xt=urn:btmh:1220"+v2.String()+"&dn=release") || strings.Contains(stdout, "btih") {
		t.Fatalf("the magnet link is not v2-only:\n%s", stdout)
	}
}

func TestCreateRefusesHybridAndV2Together(t *testing.T) {
	_, folder := dataSet(t)
	code, _, stderr := seeder(t, "create", folder, "-t", tracker, "--hybrid", "--v2", "-o", filepath.Join(t.TempDir(), "x.torrent"))
	if code != cli.ExitUsage || !strings.Contains(stderr, "exclude each other") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestCreateHelpSaysWhyV1IsTheDefault(t *testing.T) {
	_, help, _ := seeder(t, "create", "--help")
	for _, want := range []string{"--hybrid", "--v2", "Transmission 3.00", "aria2 1.36"} {
		if !strings.Contains(help, want) {
			t.Errorf("create --help lacks %q", want)
		}
	}
}

func TestServeHelpSaysWhyTheV1TwinIsOnByDefault(t *testing.T) {
	_, help, _ := seeder(t, "serve", "--help")
	for _, want := range []string{"--v1-twin", "on by default because Transmission 3.00", "NAME.v1.torrent", "--v1-twin=false",
		"one more SHA-1 pass"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

func TestInfoShowsTheVersionAndBothInfoHashes(t *testing.T) {
	for _, flag := range []string{"--hybrid", "--v2"} {
		t.Run(flag, func(t *testing.T) {
			_, _, out, _, tor := createVersion(t, flag)
			code, stdout, stderr := seeder(t, "info", out)
			if code != cli.ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			v1, hasV1 := tor.InfoHashV1()
			v2, _ := tor.InfoHashV2()
			want := []string{"info hash v2: " + v2.String() + "\n", "magnet: " + tor.Magnet().String() + "\n",
				"files (2):\n", "pieces:       5\n"}
			if hasV1 {
				want = append(want, "version:      hybrid (v1 and v2)\n", "info hash:    "+v1.String()+"\n")
			} else {
				want = append(want, "version:      v2\n")
			}
			for _, w := range want {
				if !strings.Contains(stdout, w) {
					t.Errorf("info output lacks %q:\n%s", w, stdout)
				}
			}
			if !hasV1 && strings.Contains(stdout, "info hash: ") {
				t.Errorf("a v2-only torrent shows a v1 info hash:\n%s", stdout)
			}
		})
	}
}

func TestVerifyChecksV2MerkleHashes(t *testing.T) {
	for _, tc := range []struct{ flag, kinds string }{{"--v2", "v2 merkle hashes"}, {"--hybrid", "SHA-1 and v2 merkle hashes"}} {
		t.Run(tc.flag, func(t *testing.T) {
			root, folder, out, _, _ := createVersion(t, tc.flag)
			code, stdout, stderr := seeder(t, "verify", out, root)
			if code != cli.ExitOK || !strings.Contains(stdout, "all 5 pieces OK") || !strings.Contains(stdout, tc.kinds) {
				t.Fatalf("intact data: exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			a := filepath.Join(folder, "a.bin")
			data, _ := os.ReadFile(a)
			data[40000] ^= 1
			if err := os.WriteFile(a, data, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, _ = seeder(t, "verify", out, root)
			if code != cli.ExitFailure || !strings.Contains(stdout, a+": wrong data (1 bad pieces)") ||
				!strings.Contains(stdout, "4 of 5 pieces OK: 1 hold wrong data") {
				t.Fatalf("corrupt data: exit %d, stdout %q", code, stdout)
			}
		})
	}
}

func TestVerifyRefusesATorrentWhosePieceLayersDoNotMatch(t *testing.T) {
	root, _, out, _, tor := createVersion(t, "--v2")
	if len(tor.PieceLayers) != 1 {
		t.Fatalf("%d piece layers, want a.bin's only", len(tor.PieceLayers))
	}
	// The piece layers are the last key: the file ends with the last byte
	// of a.bin's layer, then the ends of two dictionaries.
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(data), "ee") {
		t.Fatalf("file ends %q", data[len(data)-10:])
	}
	data[len(data)-3] ^= 1
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := seeder(t, "verify", out, root)
	if code != cli.ExitFailure || !strings.Contains(stderr, "merkle root") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
