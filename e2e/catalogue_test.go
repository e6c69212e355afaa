package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackpal/bencode-go"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// registered lists the torrents registered with our tracker's admin API.
func registered(t *testing.T, tp *trackerProc, token string) []string {
	t.Helper()
	req, err := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/admin/torrents", tp.adminPort), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []string
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /admin/torrents: HTTP %d, %v", resp.StatusCode, err)
	}
	return list
}

// scrapeComplete returns the seeders our tracker's scrape counts for a
// torrent, and whether the scrape names it at all.
func scrapeComplete(t *testing.T, tp *trackerProc, infoHashHex string) (int, bool) {
	t.Helper()
	hash, err := hex.DecodeString(infoHashHex)
	if err != nil {
		t.Fatal(err)
	}
	_, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/scrape?info_hash=%s", tp.httpPort, url.QueryEscape(string(hash))))
	v, err := bencode.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape %q: %v", body, err)
	}
	top, _ := v.(map[string]any)
	files, _ := top["files"].(map[string]any)
	st, ok := files[string(hash)].(map[string]any)
	if !ok {
		return 0, false
	}
	c, _ := st["complete"].(int64)
	return int(c), true
}

// eventually polls cond for up to 60 s.
func eventually(t *testing.T, what string, cond func() bool, log func() string) {
	t.Helper()
	if !testenv.Poll(60*time.Second, cond) {
		t.Fatalf("timed out waiting until %s; seeder log:\n%s", what, log())
	}
}

// TestWatchedFolderPublishesRegistersServesAndWithdraws runs our tracker in
// allow-list mode with registration and our seeder watching an empty
// content folder. A file copied in slowly is not published before it
// settles; then it is registered, announced and downloaded by aria2c
// through the tracker, while an unregistered info hash is refused. Once
// the file is removed the seeder stops serving it, the tracker's swarm
// loses it and it is unregistered.
func TestWatchedFolderPublishesRegistersServesAndWithdraws(t *testing.T) {
	aria := testenv.LookPath(t, "aria2c")
	const token = "e2e-admin-token-0123456789"
	work := t.TempDir()
	tokenFile := filepath.Join(work, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tp := startTracker(t, "", []string{"TRACKER_ADMIN_TOKEN=" + token}, "--registration", "--interval", "2s", "--min-interval", "1s")
	data := filepath.Join(work, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	const settle = 3 * time.Second
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()}, "--piece-length", "256K",
		"--watch", "--watch-interval", "200ms", "--settle", settle.String(),
		"--register-url", fmt.Sprintf("http://127.0.0.1:%d", tp.adminPort), "--register-token-file", tokenFile)
	seederLog := func() string { return sp.proc.Tail(4000) }
	if st := sp.status(t); len(st) != 0 {
		t.Fatalf("empty folder, /torrents %+v", st)
	}

	// Copy a file in slowly, in place (no temporary name): three parts
	// with pauses shorter than the settle period.
	src := filepath.Join(work, "release.iso")
	testenv.WriteRandomFile(t, src, 6<<20+12345, 7)
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(data, "release.iso")
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	part := len(full)/3 + 1
	for i := 0; i < len(full); i += part {
		if _, err := f.Write(full[i:min(i+part, len(full))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(settle * 2 / 3)
		if st := sp.status(t); len(st) != 0 {
			t.Fatalf("published while being copied: %+v", st)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var rel torrentStatus
	eventually(t, "release.iso is published", func() bool {
		rel = sp.status(t)["release.iso"]
		return rel.InfoHash != ""
	}, seederLog)
	if rel.Size != int64(len(full)) || rel.Verified != rel.Pieces {
		t.Fatalf("published %+v, want %d bytes, all verified", rel, len(full))
	}
	eventually(t, "it is registered", func() bool { return slices.Contains(registered(t, tp, token), rel.InfoHash) }, seederLog)
	eventually(t, "the seeder is in the swarm", func() bool { c, _ := scrapeComplete(t, tp, rel.InfoHash); return c == 1 }, seederLog)

	// An info hash nobody registered is refused.
	var other [20]byte
	rand.Read(other[:])
	if r := announce(t, tp.announceURL(), other[:], "stranger", 7001, 10, ""); !strings.Contains(r.Failure, "unregistered torrent") {
		t.Fatalf("unregistered torrent announced: %+v", r)
	}

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, testenv.FreePort(t), rel.Torrent))
	if err := ariaProc.Wait(180 * time.Second); err != nil {
		t.Fatalf("aria2c: %v\n%s\nseeder log:\n%s", err, ariaProc.Tail(3000), seederLog())
	}
	checkFiles(t, "aria2c", ariaDir, map[string]string{"release.iso": testenv.SHA256File(t, src)})

	// Withdrawal.
	if err := os.Remove(dst); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the seeder stops serving it", func() bool { return len(sp.status(t)) == 0 }, seederLog)
	eventually(t, "it is unregistered", func() bool { return !slices.Contains(registered(t, tp, token), rel.InfoHash) }, seederLog)
	if c, listed := scrapeComplete(t, tp, rel.InfoHash); c != 0 {
		t.Fatalf("scrape after withdrawal: %d seeders (listed %v)", c, listed)
	}
	// The tracker forgets the torrent as soon as the seeder's request
	// arrives; the seeder logs it when the answer is back.
	for _, want := range []string{`msg="announced stopped"`, `msg="torrent unregistered"`, `msg="torrent withdrawn"`} {
		eventually(t, "the seeder to log "+want, func() bool { return strings.Contains(string(sp.proc.Output()), want) }, seederLog)
	}
}
