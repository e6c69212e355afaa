package metainfo

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/merkle.golden from libtorrent")

// ltV2Script computes golden merkle roots with libtorrent ("golden DIR",
// reading "length piece-length" lines) and seeds a torrent from data on
// disk until libtorrent has checked every piece ("seed TORRENT SAVE_PATH").
const ltV2Script = `
import json, os, sys, time
import libtorrent as lt
if sys.argv[1] == "golden":
    d = sys.argv[2]
    for line in sys.stdin:
        n, pl = map(int, line.split())
        p = os.path.join(d, "f")
        with open(p, "wb") as f:
            f.write(bytes(i % 251 for i in range(n)))
        fs = lt.file_storage()
        lt.add_files(fs, p)
        t = lt.create_torrent(fs, pl, flags=lt.create_torrent.v2_only)
        lt.set_piece_hashes(t, d)
        e = t.generate()
        root = e[b"info"][b"file tree"][b"f"][b""][b"pieces root"]
        print(n, pl, root.hex(), e[b"piece layers"].get(root, b"").hex() or "-")
    sys.exit(0)
torrent, save = sys.argv[2:4]
s = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                "enable_upnp": False, "enable_natpmp": False, "dht_bootstrap_nodes": "",
                "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
h = s.add_torrent(atp)
checked, errors = False, []
deadline = time.time() + 60
while not checked and time.time() < deadline:
    s.wait_for_alert(500)
    for a in s.pop_alerts():
        if isinstance(a, lt.torrent_checked_alert):
            checked = True
        elif a.category() & lt.alert.category_t.error_notification:
            errors.append(a.message())
st = h.status()
print(json.dumps({"checked": checked, "seeding": st.is_seeding, "pieces": st.num_pieces,
                  "state": str(st.state), "errors": errors}))
# Leave without tearing the session down: Debian's libtorrent 2.0.8 once
# crashed there (SIGSEGV), losing the answer still in stdout's buffer.
sys.stdout.flush()
os._exit(0)
`

type ltSeed struct {
	Checked bool     `json:"checked"`
	Seeding bool     `json:"seeding"`
	Pieces  int      `json:"pieces"`
	State   string   `json:"state"`
	Errors  []string `json:"errors"`
}

func libtorrentSeed(t *testing.T, torrent, save string) ltSeed {
	t.Helper()
	py := testenv.LookPath(t, testenv.DebianPython)
	out, err := exec.Command(py, "-c", ltV2Script, "seed", torrent, save).CombinedOutput()
	if err != nil {
		t.Fatalf("libtorrent seed: %v\n%s", err, out)
	}
	var r ltSeed
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("libtorrent seed: %v\n%s", err, out)
	}
	return r
}

// TestMerkleGoldenAgreesWithLibtorrent recomputes testdata/merkle.golden
// with libtorrent, so the golden roots that TestMerkleRootsMatchLibtorrentsGolden
// checks come from another implementation, not from this one.
func TestMerkleGoldenAgreesWithLibtorrent(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	var in strings.Builder
	for _, c := range merkleCases {
		fmt.Fprintf(&in, "%d %d\n", c[0], c[1])
	}
	cmd := exec.Command(py, "-c", ltV2Script, "golden", t.TempDir())
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("libtorrent golden: %v", err)
	}
	if *update {
		if err := os.WriteFile(goldenMerkle, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenMerkle)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Fatalf("libtorrent computes roots other than %s's (run with -update to rewrite it)", goldenMerkle)
	}
}

// TestCreateV2GivesLibtorrentsRootsForTheSameData compares this package's
// file tree and piece layers with libtorrent's for the same folder.
func TestCreateV2GivesLibtorrentsRootsForTheSameData(t *testing.T) {
	root := v2Data(t)
	for _, pl := range []int64{16384, 65536} {
		out := filepath.Join(t.TempDir(), "lt.torrent")
		runLibtorrent(t, "create", root, filepath.Join(root, "set"), fmt.Sprint(pl), out, "v2")
		theirs, err := Load(out)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: V2, PieceLength: pl})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(ours.Info.FileTree, theirs.Info.FileTree, func(a, b TreeFile) bool {
			return slices.Equal(a.Path, b.Path) && a.Length == b.Length && a.PiecesRoot == b.PiecesRoot && a.Offset == b.Offset
		}) {
			t.Fatalf("piece length %d: file tree\n%+v\nlibtorrent's\n%+v", pl, ours.Info.FileTree, theirs.Info.FileTree)
		}
		if !mapsEqual(ours.PieceLayers, theirs.PieceLayers) {
			t.Fatalf("piece length %d: piece layers differ from libtorrent's", pl)
		}
	}
}

func mapsEqual(a, b PieceLayers) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestLibtorrentReadsAndSeedsOurV2AndHybridTorrents has libtorrent read
// torrents made by Create, with the same info hashes, files and roots, and
// check our data against them: it reaches seeding only if every piece
// matches its SHA-1 and v2 hashes, which it takes from our piece layers.
func TestLibtorrentReadsAndSeedsOurV2AndHybridTorrents(t *testing.T) {
	root := v2Data(t)
	for _, v := range []Version{V2, Hybrid} {
		for _, target := range []string{"set", "single.iso"} {
			t.Run(v.String()+" "+target, func(t *testing.T) {
				tor, err := Create(context.Background(), filepath.Join(root, target), CreateOptions{Version: v, PieceLength: 32768})
				if err != nil {
					t.Fatal(err)
				}
				data, err := tor.Encode()
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(t.TempDir(), "x.torrent")
				if err := os.WriteFile(out, data, 0o644); err != nil {
					t.Fatal(err)
				}
				lt := libtorrentInfo(t, out)
				checkHashesAgree(t, tor, lt)
				var files []ltFile
				for _, f := range tor.Info.FileList() {
					files = append(files, ltFile{Path: filepath.ToSlash(tor.Info.FilePath("", f)), Size: f.Length, Pad: f.IsPadding()})
				}
				if !slices.Equal(dropPadding(files), dropPadding(lt.Files)) || lt.Pieces != tor.Info.NumPieces() {
					t.Fatalf("files %+v\nlibtorrent: %+v, %d pieces", files, lt.Files, lt.Pieces)
				}
				seed := libtorrentSeed(t, out, root)
				if !seed.Checked || !seed.Seeding || seed.Pieces != tor.Info.NumPieces() || len(seed.Errors) > 0 {
					t.Fatalf("libtorrent does not seed our data: %+v", seed)
				}
			})
		}
	}
}

// TestLibtorrentRefusesDataThatDoesNotMatchOurV2Hashes shows that the
// seeding test above means something: with one byte changed, libtorrent's
// check of a v2-only torrent (no SHA-1 to fall back on) fails that piece.
func TestLibtorrentRefusesDataThatDoesNotMatchOurV2Hashes(t *testing.T) {
	root := v2Data(t)
	tor, err := Create(context.Background(), filepath.Join(root, "set"), CreateOptions{Version: V2, PieceLength: 32768})
	if err != nil {
		t.Fatal(err)
	}
	data, err := tor.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "x.torrent")
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "set", "big.bin")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[100000] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := libtorrentSeed(t, out, root)
	if !seed.Checked || seed.Seeding || seed.Pieces != tor.Info.NumPieces()-1 {
		t.Fatalf("libtorrent after one changed byte: %+v, want all but one of %d pieces", seed, tor.Info.NumPieces())
	}
}
