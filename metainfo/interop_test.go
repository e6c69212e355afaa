package metainfo

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// ltScript makes torrents with libtorrent ("create ROOT PATH PIECE_LENGTH
// OUT v1|v2|hybrid") and describes them as JSON ("info TORRENT").
const ltScript = `
import json, sys
import libtorrent as lt
if sys.argv[1] == "create":
    root, target, piece, out, kind = sys.argv[2:7]
    fs = lt.file_storage()
    lt.add_files(fs, target)
    flags = {"v1": lt.create_torrent.v1_only, "v2": lt.create_torrent.v2_only, "hybrid": 0}[kind]
    t = lt.create_torrent(fs, int(piece), flags=flags)
    t.add_tracker("http://a.example/announce", 0)
    t.add_tracker("http://b.example/announce", 1)
    t.add_url_seed("http://ws.example/")
    t.set_comment("made by libtorrent")
    lt.set_piece_hashes(t, root)
    open(out, "wb").write(lt.bencode(t.generate()))
    sys.exit(0)
ti = lt.torrent_info(sys.argv[2])
fs = ti.files()
tiers = {}
for a in ti.trackers():
    tiers.setdefault(a.tier, []).append(a.url)
print(json.dumps({
    "hash": str(ti.info_hashes().v1),
    "hash_v2": str(ti.info_hashes().v2),
    "roots": [str(fs.root(i)) for i in range(fs.num_files())
              if not fs.file_flags(i) & lt.file_storage.flag_pad_file],
    "name": ti.name(),
    "pieces": ti.num_pieces(),
    "piece_length": ti.piece_length(),
    "private": ti.priv(),
    "files": [{"path": fs.file_path(i), "size": fs.file_size(i),
               "pad": bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)}
              for i in range(fs.num_files())],
    "tiers": [sorted(tiers[k]) for k in sorted(tiers)],
    "web_seeds": [w["url"] for w in ti.web_seeds()],
}))
`

// ltReport is what libtorrent says about a torrent.
type ltReport struct {
	Hash        string     `json:"hash"`
	HashV2      string     `json:"hash_v2"`
	Roots       []string   `json:"roots"` // of files that are not padding
	Name        string     `json:"name"`
	Pieces      int        `json:"pieces"`
	PieceLength int64      `json:"piece_length"`
	Private     bool       `json:"private"`
	Files       []ltFile   `json:"files"`
	Tiers       [][]string `json:"tiers"`
	WebSeeds    []string   `json:"web_seeds"`
}

type ltFile struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	Pad  bool   `json:"pad"`
}

func runLibtorrent(t *testing.T, args ...string) []byte {
	t.Helper()
	py := testenv.LookPath(t, testenv.DebianPython)
	out, err := exec.Command(py, append([]string{"-c", ltScript}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("libtorrent %v: %v\n%s", args, err, out)
	}
	return out
}

func libtorrentInfo(t *testing.T, torrent string) ltReport {
	t.Helper()
	var r ltReport
	if err := json.Unmarshal(runLibtorrent(t, "info", torrent), &r); err != nil {
		t.Fatalf("libtorrent info: %v", err)
	}
	return r
}

var transmissionHash = regexp.MustCompile(`(?m)^\s*Hash: ([0-9a-f]{40})$`)

func transmissionShowHash(t *testing.T, torrent string) string {
	t.Helper()
	out, err := exec.Command(testenv.LookPath(t, "transmission-show"), torrent).CombinedOutput()
	if err != nil {
		t.Fatalf("transmission-show: %v\n%s", err, out)
	}
	m := transmissionHash.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no Hash: line in transmission-show output:\n%s", out)
	}
	return string(m[1])
}

// checkAgreesWithLibtorrent parses a torrent made by another program and
// compares everything with libtorrent's reading of it; then it checks that
// the data verifies and that re-encoding gives the file back unchanged.
func checkAgreesWithLibtorrent(t *testing.T, torrent, root string) *Torrent {
	t.Helper()
	data, err := os.ReadFile(torrent)
	if err != nil {
		t.Fatal(err)
	}
	tor, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	lt := libtorrentInfo(t, torrent)
	checkHashesAgree(t, tor, lt)
	if tor.Info.Name != lt.Name || tor.Info.NumPieces() != lt.Pieces || tor.Info.PieceLength != lt.PieceLength || tor.Info.Private != lt.Private {
		t.Fatalf("name %q pieces %d piece length %d private %v; libtorrent: %+v",
			tor.Info.Name, tor.Info.NumPieces(), tor.Info.PieceLength, tor.Info.Private, lt)
	}
	var files []ltFile
	for _, f := range tor.Info.FileList() {
		p := tor.Info.Name
		if tor.Info.IsMultiFile() {
			p = path.Join(append([]string{tor.Info.Name}, f.Path...)...)
		}
		files = append(files, ltFile{Path: p, Size: f.Length, Pad: f.IsPadding()})
	}
	if !tor.Info.HasV1() {
		// libtorrent pads the last file of a v2-only torrent to a whole
		// piece too; this package leaves the last piece short, as in v1.
		files, lt.Files = dropPadding(files), dropPadding(lt.Files)
	}
	if !slices.Equal(files, lt.Files) {
		t.Fatalf("files %+v\nlibtorrent: %+v", files, lt.Files)
	}
	var tiers [][]string
	for _, tier := range tor.Trackers() {
		tiers = append(tiers, slices.Sorted(slices.Values(tier)))
	}
	if !slices.EqualFunc(tiers, lt.Tiers, slices.Equal) || !slices.Equal(tor.WebSeeds, lt.WebSeeds) {
		t.Fatalf("trackers %q web seeds %q; libtorrent: %q %q", tiers, tor.WebSeeds, lt.Tiers, lt.WebSeeds)
	}
	res, err := Verify(context.Background(), &tor.Info, root, VerifyOptions{PieceLayers: tor.PieceLayers})
	if err != nil || !res.Complete() {
		t.Fatalf("Verify: err %v, result %+v", err, res)
	}
	enc, err := tor.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, data) {
		t.Fatalf("re-encoding changed the file:\n%q\n%q", enc, data)
	}
	return tor
}

func interopData(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// Sizes that make pieces span files, plus an empty file.
	writeTree(t, filepath.Join(root, "album"), map[string]int64{
		"cd1/01 intro.flac": 100000,
		"cd1/02.flac":       300001,
		"cover.jpg":         5000,
		"empty.txt":         0,
		"notes/readme":      40000,
	})
	testenv.WriteRandomFile(t, filepath.Join(root, "film.mkv"), 777777, 42)
	return root
}

func TestParseAgreesWithMktorrent(t *testing.T) {
	mktorrent := testenv.LookPath(t, "mktorrent")
	root := interopData(t)
	tests := []struct {
		name, target string
		args         []string
	}{
		{"folder with tiers and one web seed", "album", []string{
			"-l", "15", "-a", "http://a.example/announce,http://b.example/announce", "-a", "udp://c.example:6969",
			"-w", "http://ws.example/", "-c", "made by mktorrent"}},
		{"private single file with source and two web seeds", "film.mkv", []string{
			"-l", "16", "-a", "http://a.example/announce", "-p", "-s", "origin", "-d",
			"-w", "http://ws1.example/", "-w", "http://ws2.example/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.torrent")
			args := append(append([]string{}, tt.args...), "-o", out, tt.target)
			cmd := exec.Command(mktorrent, args...)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mktorrent: %v\n%s", err, b)
			}
			tor := checkAgreesWithLibtorrent(t, out, root)
			if h := transmissionShowHash(t, out); h != tor.InfoHash().String() {
				t.Fatalf("info hash %s, transmission-show says %s", tor.InfoHash(), h)
			}
		})
	}
}

func TestParseAgreesWithLibtorrent(t *testing.T) {
	root := interopData(t)
	// libtorrent's default is a hybrid v1+v2 torrent: BEP 47 padding files
	// in "files" (after the last file too), a BEP 52 "file tree" in the
	// info dictionary and "piece layers" at the top level; both info
	// hashes cover all of the info dictionary.
	for _, kind := range []string{"v1", "v2", "hybrid"} {
		for _, target := range []string{"album", "film.mkv"} {
			t.Run(kind+" "+target, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "x.torrent")
				runLibtorrent(t, "create", root, filepath.Join(root, target), "32768", out, kind)
				tor := checkAgreesWithLibtorrent(t, out, root)
				if kind != "v1" {
					return // Transmission 3.00 cannot read v2 torrents at all.
				}
				if h := transmissionShowHash(t, out); h != tor.InfoHash().String() {
					t.Fatalf("info hash %s, transmission-show says %s", tor.InfoHash(), h)
				}
			})
		}
	}
}

func TestCreateGivesTheSameInfoHashAsMktorrent(t *testing.T) {
	mktorrent := testenv.LookPath(t, "mktorrent")
	root := interopData(t)
	// "a.b" and "a/x" are ordered differently by path and by component.
	writeTree(t, filepath.Join(root, "album"), map[string]int64{"a.b": 20000, "a/x": 30000})
	tests := []struct {
		target string
		opts   CreateOptions
		args   []string
	}{
		{"album", CreateOptions{PieceLength: 32768}, []string{"-l", "15"}},
		{"film.mkv", CreateOptions{PieceLength: 65536, Private: true, Source: "origin"}, []string{"-l", "16", "-p", "-s", "origin"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.torrent")
			args := append(append([]string{"-a", "http://a.example/announce", "-o", out}, tt.args...), tt.target)
			cmd := exec.Command(mktorrent, args...)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("mktorrent: %v\n%s", err, b)
			}
			theirs, err := Load(out)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := Create(context.Background(), filepath.Join(root, tt.target), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if ours.InfoHash() != theirs.InfoHash() {
				t.Fatalf("info hash %s, mktorrent's %s\nours:   %q\ntheirs: %q", ours.InfoHash(), theirs.InfoHash(),
					ours.InfoBytes()[:min(300, len(ours.InfoBytes()))], theirs.InfoBytes()[:min(300, len(theirs.InfoBytes()))])
			}
		})
	}
}

// checkHashesAgree compares a torrent's info hashes and pieces roots with
// libtorrent's reading of it, which gives zeros for a hash it lacks.
func checkHashesAgree(t *testing.T, tor *Torrent, lt ltReport) {
	t.Helper()
	v1, _ := tor.InfoHashV1()
	v2, _ := tor.InfoHashV2()
	if v1.String() != lt.Hash || v2.String() != lt.HashV2 {
		t.Fatalf("info hashes v1 %s v2 %s; libtorrent says %s and %s", v1, v2, lt.Hash, lt.HashV2)
	}
	var roots []string
	if tor.Info.HasV2() {
		for _, f := range tor.Info.FileTree {
			roots = append(roots, f.PiecesRoot.String())
		}
	} else {
		for _, f := range tor.Info.FileList() {
			if !f.IsPadding() {
				roots = append(roots, Hash256{}.String())
			}
		}
	}
	if !slices.Equal(roots, lt.Roots) {
		t.Fatalf("pieces roots %v; libtorrent says %v", roots, lt.Roots)
	}
}

func dropPadding(files []ltFile) []ltFile {
	return slices.DeleteFunc(slices.Clone(files), func(f ltFile) bool { return f.Pad })
}
