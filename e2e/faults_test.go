package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
)

// ask sends a request and returns its answer, a *peerwire.Piece or a
// *peerwire.Reject, noting the have messages that come first in haves.
func (p *rawPeer) ask(r peerwire.Request, haves map[uint32]bool) peerwire.Message {
	p.t.Helper()
	p.write(r.AppendTo(nil))
	return p.next(func(m peerwire.Message) bool {
		switch m := m.(type) {
		case *peerwire.Have:
			haves[m.Index] = true
		case *peerwire.Piece:
			return m.Index == r.Index && m.Begin == r.Begin
		case *peerwire.Reject:
			return peerwire.Request(*m) == r
		}
		return false
	})
}

// waitHave reads until a have message for piece i came.
func (p *rawPeer) waitHave(i uint32, haves map[uint32]bool) {
	p.t.Helper()
	for !haves[i] {
		p.next(func(m peerwire.Message) bool {
			if h, ok := m.(*peerwire.Have); ok {
				haves[h.Index] = true
				return true
			}
			return false
		})
	}
}

// blocksOf lists the 16 KiB block requests (aligned in their piece) that
// hold any of the bytes [off, off+n) of a torrent.
func blocksOf(info *metainfo.Info, off, n int64) []peerwire.Request {
	var out []peerwire.Request
	for i := off / info.PieceLength; i <= (off+n-1)/info.PieceLength; i++ {
		size := info.PieceSize(int(i))
		for b := int64(0); b < size; b += 16 << 10 {
			start, length := i*info.PieceLength+b, min(16<<10, size-b)
			if start < off+n && start+length > off {
				out = append(out, peerwire.Request{Index: uint32(i), Begin: uint32(b), Length: uint32(length)})
			}
		}
	}
	return out
}

// TestFilesChangedUnderARunningSeederAreNeverServed changes the files of
// one torrent while the seeder serves it, and aria2c downloads the other:
// a file rewritten with other bytes of the same size, then put back; a
// file removed, then put back; a file truncated. A raw peer asks for every
// block the changes touch: each is rejected until its piece is verified
// again, never sent with the new bytes or zeros; repaired pieces are
// announced with have and served; and aria2c's download is untouched.
func TestFilesChangedUnderARunningSeederAreNeverServed(t *testing.T) {
	aria := testenv.LookPath(t, "aria2c")
	tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s")
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 24<<20+12345)
	// Offload off: the test's raw peer asks for blocks as from a seed
	// that announced every piece (offload reveals a few at a time).
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()},
		"--piece-length", "64K", "--upload-rate", "3M", // aria2c takes 8 s: it overlaps the changes
		"--offload", "off")
	st := sp.status(t)
	single, album := st["single.bin"], st["album"]
	meta, err := metainfo.Load(album.Torrent)
	if err != nil {
		t.Fatal(err)
	}
	info := &meta.Info
	files := map[string]metainfo.File{}
	original := map[string][]byte{}
	for _, f := range info.FileList() {
		name := strings.Join(f.Path, "/")
		files[name] = f
		if original[name], err = os.ReadFile(filepath.Join(data, "album", filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	all := bytes.Join([][]byte{original["01 intro.bin"], original["cover/art.bin"], original["notes.txt"]}, nil)
	if files["notes.txt"].Offset+999 != int64(len(all)) {
		t.Fatalf("album files not in the expected order: %+v", info.FileList())
	}

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, testenv.FreePort(t), single.Torrent))
	for deadline := time.Now().Add(30 * time.Second); sp.status(t)["single.bin"].Peers == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("aria2c never connected:\n%s", ariaProc.Tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}

	p := dialRaw(t, sp.addr())
	p.nc.SetDeadline(time.Now().Add(90 * time.Second))
	p.handshake(album.InfoHash, true, uint32(album.Pieces))
	p.unchoked()
	haves := map[uint32]bool{}
	// served asks for every block of reqs and fails unless each comes
	// with the original bytes.
	served := func(what string, reqs []peerwire.Request) {
		t.Helper()
		for _, r := range reqs {
			pc, ok := p.ask(r, haves).(*peerwire.Piece)
			off := int64(r.Index)*info.PieceLength + int64(r.Begin)
			if !ok || !bytes.Equal(pc.Block, all[off:off+int64(r.Length)]) {
				t.Fatalf("%s: block %d/%d not served with the original bytes", what, r.Index, r.Begin)
			}
		}
	}
	// rejected asks for every block of reqs and fails on any served.
	rejected := func(what string, reqs []peerwire.Request) {
		t.Helper()
		for _, r := range reqs {
			if pc, ok := p.ask(r, haves).(*peerwire.Piece); ok {
				t.Fatalf("%s: block %d/%d served (%d bytes; original bytes: %v)", what, r.Index, r.Begin,
					len(pc.Block), bytes.Equal(pc.Block, all[int64(r.Index)*info.PieceLength+int64(r.Begin):][:r.Length]))
			}
		}
	}
	// verifiedAgain waits for the seeder's n-th report of pieces verified
	// again.
	verifiedAgain := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); bytes.Count(sp.proc.Output(), []byte(`msg="pieces verified again"`)) < n; {
			if time.Now().After(deadline) {
				t.Fatalf("no re-verification #%d:\n%s", n, sp.proc.Tail(3000))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	intro, art, notes := files["01 intro.bin"], files["cover/art.bin"], files["notes.txt"]
	served("before any change", blocksOf(info, 0, 16<<10))

	// 1. The cover rewritten in place with other bytes, same size.
	artPath := filepath.Join(data, "album", "cover", "art.bin")
	testenv.WriteRandomFile(t, artPath+".new", art.Length, 99)
	other, _ := os.ReadFile(artPath + ".new")
	if err := os.WriteFile(artPath, other, 0o644); err != nil {
		t.Fatal(err)
	}
	artBlocks := blocksOf(info, art.Offset, art.Length)
	rejected("cover rewritten", artBlocks)
	verifiedAgain(1)
	rejected("cover rewritten, verified again", artBlocks)

	// 2. Put back: the seeder notices by itself, verifies, says have.
	if err := os.WriteFile(artPath, original["cover/art.bin"], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range artBlocks {
		p.waitHave(r.Index, haves)
	}
	served("cover put back", artBlocks)

	// 3. The notes removed, then put back.
	notesPath := filepath.Join(data, "album", "notes.txt")
	if err := os.Remove(notesPath); err != nil {
		t.Fatal(err)
	}
	// The notes were read a moment ago (their piece holds the cover's
	// end): for up to a second the seeder may read the removed file's
	// verified bytes through its open handle, before it looks again.
	time.Sleep(1100 * time.Millisecond)
	notesBlocks := blocksOf(info, notes.Offset, notes.Length)
	rejected("notes removed", notesBlocks)
	clear(haves)
	if err := os.WriteFile(notesPath, original["notes.txt"], 0o644); err != nil {
		t.Fatal(err)
	}
	p.waitHave(notesBlocks[0].Index, haves)
	served("notes put back", notesBlocks)

	// 4. The intro truncated: blocks past its new end are rejected, no
	// zeros sent; the pieces still whole are served again.
	const kept = 300000
	if err := os.Truncate(filepath.Join(data, "album", "01 intro.bin"), kept); err != nil {
		t.Fatal(err)
	}
	clear(haves)
	rejected("intro truncated", blocksOf(info, kept, intro.Length-kept))
	whole := blocksOf(info, 0, kept/info.PieceLength*info.PieceLength)
	p.waitHave(whole[len(whole)-1].Index, haves)
	served("intro truncated, whole pieces", whole)
	rejected("intro truncated, verified again", blocksOf(info, kept, intro.Length-kept))
	if sp.proc.Exited() {
		t.Fatal("the seeder exited")
	}

	log := string(sp.proc.Output())
	for _, want := range []string{"change=modified", `change="removed or unreadable"`, `change="truncated from 700001 to 300000 bytes"`} {
		if !strings.Contains(log, `msg="file changed on disk: its pieces are not served until verified again"`) || !strings.Contains(log, want) {
			t.Errorf("the seeder's log does not say %s", want)
		}
	}
	m := scrapeMetrics(t, sp.adminPort)
	if m["bitorigin_seeder_invalidations_total"] < 5 || m[`bitorigin_seeder_rechecked_pieces_total{result="bad"}`] == 0 ||
		m[`bitorigin_seeder_rechecked_pieces_total{result="good"}`] == 0 {
		t.Errorf("metrics: %v invalidations, %v bad and %v good pieces verified again", m["bitorigin_seeder_invalidations_total"],
			m[`bitorigin_seeder_rechecked_pieces_total{result="bad"}`], m[`bitorigin_seeder_rechecked_pieces_total{result="good"}`])
	}

	if err := ariaProc.Wait(120 * time.Second); err != nil {
		t.Fatalf("aria2c: %v\n%s", err, ariaProc.Tail(3000))
	}
	checkFiles(t, "aria2c", ariaDir, map[string]string{"single.bin": sums["single.bin"]})
}

// restartTracker starts our tracker again on the ports of tp, which was
// stopped, and waits until it is ready.
func restartTracker(t *testing.T, tp *trackerProc, args ...string) *trackerProc {
	t.Helper()
	bin := testenv.Build(t, "github.com/bitorigin/bitorigin/cmd/tracker")
	addr := fmt.Sprintf("127.0.0.1:%d", tp.httpPort)
	next := &trackerProc{httpPort: tp.httpPort, adminPort: tp.adminPort}
	next.proc = testenv.Start(t, bin, append([]string{"--http-addr", addr, "--udp-addr", addr,
		"--admin-addr", fmt.Sprintf("127.0.0.1:%d", tp.adminPort), "--log-level", "debug"}, args...))
	for deadline := time.Now().Add(10 * time.Second); ; {
		if code, _ := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", tp.adminPort)); code == 200 {
			return next
		}
		if next.proc.Exited() || time.Now().After(deadline) {
			t.Fatalf("tracker did not start again:\n%s", next.proc.Tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// retryIn matches the seeder's report of an announce that reached no
// tracker.
var retryIn = regexp.MustCompile(`msg="announce failed on every tracker".* retry_in=(\S+)`)

// TestSeederKeepsServingWhileItsTrackerIsDown stops the tracker while
// aria2c downloads: the download completes, a new peer is accepted and
// served, the seeder counts its failed announces and retries with a
// back-off, and once the tracker is back the seeder is in its swarm again.
func TestSeederKeepsServingWhileItsTrackerIsDown(t *testing.T) {
	aria := testenv.LookPath(t, "aria2c")
	args := []string{"--interval", "2s", "--min-interval", "1s"}
	tp := startTracker(t, "", nil, args...)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 16<<20+12345)
	// Offload off: the test's raw peer asks for blocks as from a seed
	// that announced every piece (offload reveals a few at a time).
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()},
		"--piece-length", "64K", "--upload-rate", "2M", // aria2c takes 8 s
		"--offload", "off")
	st := sp.status(t)
	single, album := st["single.bin"], st["album"]
	waitScrape(t, tp, single.InfoHash, func(c, _, _ int) bool { return c == 1 })

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, testenv.FreePort(t), single.Torrent))
	for deadline := time.Now().Add(30 * time.Second); sp.status(t)["single.bin"].Peers == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("aria2c never connected:\n%s", ariaProc.Tail(2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := tp.proc.Stop(syscall.SIGTERM, 10*time.Second); err != nil {
		t.Fatalf("tracker: %v", err)
	}
	for deadline := time.Now().Add(15 * time.Second); scrapeMetrics(t, sp.adminPort)[`bitorigin_seeder_announces_total{result="error"}`] == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no failed announce counted:\n%s", sp.proc.Tail(3000))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A peer that comes now is accepted and served.
	p := dialRaw(t, sp.addr())
	p.handshake(album.InfoHash, true, uint32(album.Pieces))
	p.unchoked()
	want, err := os.ReadFile(filepath.Join(data, "album", "01 intro.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if pc, ok := p.ask(peerwire.Request{Index: 1, Length: 16 << 10}, map[uint32]bool{}).(*peerwire.Piece); !ok ||
		!bytes.Equal(pc.Block, want[64<<10:80<<10]) {
		t.Fatal("a peer that came while the tracker was down was not served")
	}
	if err := ariaProc.Wait(120 * time.Second); err != nil {
		t.Fatalf("aria2c: %v\n%s", err, ariaProc.Tail(3000))
	}
	checkFiles(t, "aria2c", ariaDir, map[string]string{"single.bin": sums["single.bin"]})

	// Each torrent's announces back off: 15 s doubling, so a retry comes
	// within 19 s of the first failure, and the log says when.
	m := retryIn.FindAllSubmatch(sp.proc.Output(), -1)
	if len(m) == 0 {
		t.Fatalf("no failed announce in the log:\n%s", sp.proc.Tail(3000))
	}
	for _, r := range m {
		d, err := time.ParseDuration(string(r[1]))
		if err != nil || d < 11*time.Second || d > 19*time.Second {
			t.Fatalf("first retry in %s, want 15 s with at most 25%% jitter", r[1])
		}
	}

	tp = restartTracker(t, tp, args...)
	waitScrape(t, tp, single.InfoHash, func(c, _, _ int) bool { return c >= 1 })
	waitScrape(t, tp, album.InfoHash, func(c, _, _ int) bool { return c >= 1 })
	if ok := scrapeMetrics(t, sp.adminPort)[`bitorigin_seeder_announces_total{result="ok"}`]; ok < 4 {
		t.Fatalf("%v announces answered, want the ones before the outage and after", ok)
	}
}
