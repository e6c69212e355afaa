package webseed

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
)

// torrentOf makes a torrent of root/name; complete says whether every
// piece counts as verified.
func torrentOf(t *testing.T, root, name string, complete bool) *content.Torrent {
	t.Helper()
	meta, err := metainfo.Create(context.Background(), filepath.Join(root, name), metainfo.CreateOptions{PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	have := bitfield.New(uint32(meta.Info.NumPieces()))
	if complete {
		have.SetAll()
	}
	tor := content.NewTorrent(meta, "", root, have, 4)
	t.Cleanup(func() { tor.Close() })
	return tor
}

type fixture struct {
	srv          *httptest.Server
	single, file []byte
}

func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	root := t.TempDir()
	fx := &fixture{
		single: testenv.WriteData(t, filepath.Join(root, "single.bin"), 100000, 1),
		file:   testenv.WriteData(t, filepath.Join(root, "album", "cd 1", "track.bin"), 40000, 2),
	}
	testenv.WriteData(t, filepath.Join(root, "album", "notes.txt"), 1000, 3)
	outside := filepath.Join(t.TempDir(), "secret")
	testenv.WriteData(t, outside, 1000, 4)
	testenv.WriteData(t, filepath.Join(root, "partial.bin"), 1000, 5)
	torrents := map[string]*content.Torrent{
		"single.bin":  torrentOf(t, root, "single.bin", true),
		"album":       torrentOf(t, root, "album", true),
		"partial.bin": torrentOf(t, root, "partial.bin", false),
	}
	// notes.txt becomes a link out of the data folder, same length.
	notes := filepath.Join(root, "album", "notes.txt")
	if err := os.Remove(notes); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, notes); err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Prefix: prefix, Lookup: func(name string) *content.Torrent { return torrents[name] }})
	if err != nil {
		t.Fatal(err)
	}
	fx.srv = httptest.NewServer(h)
	t.Cleanup(fx.srv.Close)
	return fx
}

func do(t *testing.T, method, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestWebSeedServesWholeFilesRangesAndHeadWithValidators(t *testing.T) {
	fx := newFixture(t, "/seed/")
	base := fx.srv.URL + "/seed/"

	resp, body := do(t, "GET", base+"single.bin")
	etag, mod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if resp.StatusCode != 200 || !bytes.Equal(body, fx.single) || resp.ContentLength != int64(len(fx.single)) ||
		etag == "" || mod == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET: %s, %d bytes, headers %v", resp.Status, len(body), resp.Header)
	}

	resp, body = do(t, "GET", base+"album/cd%201/track.bin", "Range", "bytes=1000-1999")
	if resp.StatusCode != 206 || !bytes.Equal(body, fx.file[1000:2000]) ||
		resp.Header.Get("Content-Range") != "bytes 1000-1999/40000" {
		t.Fatalf("Range: %s, %d bytes, headers %v", resp.Status, len(body), resp.Header)
	}

	resp, body = do(t, "HEAD", base+"single.bin")
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != "100000" || resp.Header.Get("ETag") != etag {
		t.Fatalf("HEAD: %s, %d bytes, headers %v", resp.Status, len(body), resp.Header)
	}

	if resp, _ := do(t, "GET", base+"single.bin", "If-None-Match", etag); resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %s", resp.Status)
	}
	if resp, _ := do(t, "GET", base+"single.bin", "If-Modified-Since", mod); resp.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %s", resp.Status)
	}
	resp, body = do(t, "GET", base+"single.bin", "Range", "bytes=0-9", "If-Range", `"stale"`)
	if resp.StatusCode != 200 || len(body) != len(fx.single) {
		t.Fatalf("If-Range with a stale ETag: %s, %d bytes", resp.Status, len(body))
	}
}

func TestWebSeedServesOnlyFilesOfServedTorrents(t *testing.T) {
	fx := newFixture(t, "")
	base := fx.srv.URL
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/", 404},
		{"GET", "/album", 404},  // a folder: no listing
		{"GET", "/album/", 404}, // nor with a slash
		{"GET", "/album/cd%201", 404},
		{"GET", "/album/missing.bin", 404},
		{"GET", "/album/cd%201/../notes.txt", 404},
		{"GET", "/album/cd%201/..%2fnotes.txt", 404},
		{"GET", "/album//notes.txt", 404},
		{"GET", "/single.bin/", 404},
		{"GET", "/single.bin/x", 404},
		{"GET", "/unknown.bin", 404},
		{"GET", "/partial.bin", 404},     // a piece failed verification
		{"GET", "/album/notes.txt", 503}, // a symbolic link out of the data folder
		{"POST", "/single.bin", 405},
		{"DELETE", "/single.bin", 405},
	} {
		resp, body := do(t, c.method, base+c.path)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %s, want %d", c.method, c.path, resp.Status, c.want)
		}
		if bytes.Contains(body, fx.single[:64]) {
			t.Errorf("%s %s: served data", c.method, c.path)
		}
	}
}

func TestWebSeedRefusesAFileThatChangedSize(t *testing.T) {
	root := t.TempDir()
	testenv.WriteData(t, filepath.Join(root, "f.bin"), 5000, 1)
	tor := torrentOf(t, root, "f.bin", true)
	h, err := New(Config{Lookup: func(string) *content.Torrent { return tor }})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WriteData(t, filepath.Join(root, "f.bin"), 4000, 1)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/f.bin", nil))
	if w.Code != 503 {
		t.Fatalf("truncated file: %d", w.Code)
	}
}

func TestNewRejectsABadPrefix(t *testing.T) {
	lookup := func(string) *content.Torrent { return nil }
	for _, p := range []string{"seed/", "/seed", "x"} {
		if _, err := New(Config{Prefix: p, Lookup: lookup}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no lookup accepted")
	}
}

func TestWebSeedRefusesAFileRewrittenOrReplacedWithTheSameSize(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "f.bin")
	want := testenv.WriteData(t, path, 5000, 1)
	tor := torrentOf(t, root, "f.bin", true)
	h, err := New(Config{Lookup: func(string) *content.Torrent { return tor }})
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, []byte) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/f.bin", nil))
		return w.Code, w.Body.Bytes()
	}
	if code, body := get(); code != 200 || !bytes.Equal(body, want) {
		t.Fatalf("intact file: %d, %d bytes", code, len(body))
	}
	for _, change := range []func(){
		func() { // rewritten in place: same inode and size, new modification time
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("other"), 100)
			f.Close()
		},
		func() { // replaced by a rename: another inode
			other := filepath.Join(root, ".f.bin.tmp")
			testenv.WriteData(t, other, 5000, 9)
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		},
	} {
		time.Sleep(5 * time.Millisecond)
		change()
		if code, body := get(); code != 503 || bytes.Contains(body, want[:64]) {
			t.Fatalf("changed file: %d, want 503", code)
		}
	}
}

// TestWebSeedNeverServesPaddingFiles serves a hybrid torrent, whose v1
// file list holds BEP 47 padding files: BEP 19 clients ask for the real
// files only, and a padding path is not a file of the torrent even when
// something lies at that path on disk.
func TestWebSeedNeverServesPaddingFiles(t *testing.T) {
	root := t.TempDir()
	a := testenv.WriteData(t, filepath.Join(root, "album", "a.bin"), 20000, 1)
	b := testenv.WriteData(t, filepath.Join(root, "album", "b.bin"), 3000, 2)
	meta, err := metainfo.Create(context.Background(), filepath.Join(root, "album"),
		metainfo.CreateOptions{Version: metainfo.Hybrid, PieceLength: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var pad string
	for _, f := range meta.Info.FileList() {
		if f.IsPadding() {
			pad = filepath.Join(f.Path...)
		}
	}
	if pad == "" {
		t.Fatalf("no padding file in %+v", meta.Info.Files)
	}
	testenv.WriteData(t, filepath.Join(root, "album", pad), 12768, 3)
	have := bitfield.New(uint32(meta.Info.NumPieces()))
	have.SetAll()
	tor := content.NewTorrent(meta, "", root, have, 4)
	t.Cleanup(func() { tor.Close() })
	h, err := New(Config{Prefix: "/", Lookup: func(name string) *content.Torrent { return map[string]*content.Torrent{"album": tor}[name] }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for name, want := range map[string][]byte{"a.bin": a, "b.bin": b} {
		if resp, body := do(t, "GET", srv.URL+"/album/"+name); resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Fatalf("%s: %s, %d bytes", name, resp.Status, len(body))
		}
	}
	if resp, _ := do(t, "GET", srv.URL+"/album/"+filepath.ToSlash(pad)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("padding file %s: %s", pad, resp.Status)
	}
}
