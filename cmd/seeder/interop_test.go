package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/testenv"
)

// ltInfo prints libtorrent's reading of a torrent as JSON.
const ltInfo = `
import json, sys
import libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
fs = ti.files()
print(json.dumps({
    "hash": str(ti.info_hashes().v1),
    "hash_v2": str(ti.info_hashes().v2),
    "files": ["%s %d" % (fs.file_path(i), fs.file_size(i)) for i in range(fs.num_files())
              if not fs.file_flags(i) & lt.file_storage.flag_pad_file],
    "trackers": sorted(a.url for a in ti.trackers()),
    "web_seeds": [w["url"] for w in ti.web_seeds()],
    "private": ti.priv(),
}))
`

var (
	transmissionHash = regexp.MustCompile(`(?m)^\s*Hash: ([0-9a-f]{40})$`)
	transmissionFile = regexp.MustCompile(`(?m)^  (\S.*) \([0-9.]+ [kMG]?B\)$`)
	aria2Hash        = regexp.MustCompile(`(?m)^Info Hash: ([0-9a-f]{40})$`)
	aria2File        = regexp.MustCompile(`(?m)^\s+\d+\|\./(.+)\n\s+\|.*\(([0-9,]+)\)$`)
)

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestCreatedTorrentIsAcceptedByOtherClients checks a torrent made by
// `seeder create` with Transmission, libtorrent and aria2: each must read the
// same info hash and the same files.
func TestCreatedTorrentIsAcceptedByOtherClients(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	show := testenv.LookPath(t, "transmission-show")
	aria2 := testenv.LookPath(t, "aria2c")

	root := t.TempDir()
	folder := filepath.Join(root, "release 1.0")
	files := map[string]int64{"a.bin": 300001, "docs/readme.txt": 1234, "docs/empty": 0, "z/last.dat": 70000}
	for name, size := range files {
		testenv.WriteRandomFile(t, filepath.Join(folder, filepath.FromSlash(name)), size, uint64(size))
	}
	testenv.WriteRandomFile(t, filepath.Join(root, "single.iso"), 1<<20+1, 9)

	for _, target := range []string{folder, filepath.Join(root, "single.iso")} {
		t.Run(filepath.Base(target), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.torrent")
			code, stdout, stderr := seeder(t, "create", target, "-t", tracker, "-t", "udp://127.0.0.1:6969",
				"-w", "http://127.0.0.1:8080/files/", "--piece-length", "32K", "--private", "-o", out)
			if code != cli.ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			hash := infoHashLine.FindStringSubmatch(stdout)[1]

			// What every client should list: "path size", in torrent order.
			var want []string
			if target == folder {
				names := make([]string, 0, len(files))
				for name := range files {
					names = append(names, name)
				}
				slices.Sort(names)
				for _, name := range names {
					want = append(want, "release 1.0/"+name+" "+strconv.FormatInt(files[name], 10))
				}
			} else {
				want = []string{"single.iso " + strconv.Itoa(1<<20+1)}
			}

			var lt struct {
				Hash     string   `json:"hash"`
				Files    []string `json:"files"`
				Trackers []string `json:"trackers"`
				WebSeeds []string `json:"web_seeds"`
				Private  bool     `json:"private"`
			}
			if err := json.Unmarshal([]byte(output(t, py, "-c", ltInfo, out)), &lt); err != nil {
				t.Fatal(err)
			}
			if lt.Hash != hash || !slices.Equal(lt.Files, want) || !lt.Private ||
				!slices.Equal(lt.Trackers, []string{tracker, "udp://127.0.0.1:6969"}) ||
				!slices.Equal(lt.WebSeeds, []string{"http://127.0.0.1:8080/files/"}) {
				t.Fatalf("libtorrent reads %+v; want hash %s, files %q", lt, hash, want)
			}

			tr := output(t, show, out)
			if m := transmissionHash.FindStringSubmatch(tr); m == nil || m[1] != hash {
				t.Fatalf("transmission-show hash differs from %s:\n%s", hash, tr)
			}
			var trFiles []string
			for _, m := range transmissionFile.FindAllStringSubmatch(tr, -1) {
				trFiles = append(trFiles, m[1])
			}
			if !slices.Equal(trFiles, names(want)) {
				t.Fatalf("transmission-show lists %q, want %q:\n%s", trFiles, names(want), tr)
			}

			ar := output(t, aria2, "--no-conf=true", "--show-files", out)
			if m := aria2Hash.FindStringSubmatch(ar); m == nil || m[1] != hash {
				t.Fatalf("aria2c hash differs from %s:\n%s", hash, ar)
			}
			var arFiles []string
			for _, m := range aria2File.FindAllStringSubmatch(ar, -1) {
				arFiles = append(arFiles, m[1]+" "+strings.ReplaceAll(m[2], ",", ""))
			}
			if !slices.Equal(arFiles, want) {
				t.Fatalf("aria2c lists %q, want %q:\n%s", arFiles, want, ar)
			}
		})
	}
}

// names drops the sizes from "path size" entries.
func names(entries []string) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e[:strings.LastIndexByte(e, ' ')])
	}
	return out
}

// TestCreatedV2AndHybridTorrentsAreReadByLibtorrent checks `seeder create
// --hybrid` and `--v2` with libtorrent, the v2 client Debian has: it must
// read the info hashes create printed and the same files. (metainfo's
// interop tests have libtorrent seed such torrents over the data.)
func TestCreatedV2AndHybridTorrentsAreReadByLibtorrent(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	root := t.TempDir()
	folder := filepath.Join(root, "release 2.0")
	files := map[string]int64{"a.bin": 300001, "docs/readme.txt": 1234, "docs/empty": 0, "z/last.dat": 70000}
	for name, size := range files {
		testenv.WriteRandomFile(t, filepath.Join(folder, filepath.FromSlash(name)), size, uint64(size))
	}
	testenv.WriteRandomFile(t, filepath.Join(root, "single.iso"), 1<<20+1, 9)
	for _, flag := range []string{"--hybrid", "--v2"} {
		for _, target := range []string{folder, filepath.Join(root, "single.iso")} {
			t.Run(flag+" "+filepath.Base(target), func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "x.torrent")
				code, stdout, stderr := seeder(t, "create", target, "-t", tracker, "--piece-length", "32K", flag, "-o", out)
				if code != cli.ExitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				hash := strings.Repeat("0", 40) // what libtorrent says of a v2-only torrent
				if m := infoHashLine.FindStringSubmatch(stdout); m != nil {
					hash = m[1]
				}
				hashV2 := infoHashV2Line.FindStringSubmatch(stdout)[1]
				var lt struct {
					Hash   string   `json:"hash"`
					HashV2 string   `json:"hash_v2"`
					Files  []string `json:"files"`
				}
				if err := json.Unmarshal([]byte(output(t, py, "-c", ltInfo, out)), &lt); err != nil {
					t.Fatal(err)
				}
				var want []string
				if target == folder {
					// File tree order: component by component.
					want = []string{"release 2.0/a.bin 300001", "release 2.0/docs/empty 0",
						"release 2.0/docs/readme.txt 1234", "release 2.0/z/last.dat 70000"}
				} else {
					want = []string{"single.iso " + strconv.Itoa(1<<20+1)}
				}
				if lt.Hash != hash || lt.HashV2 != hashV2 || !slices.Equal(lt.Files, want) {
					t.Fatalf("libtorrent reads %+v; want hashes %s %s, files %q", lt, hash, hashV2, want)
				}
			})
		}
	}
}
