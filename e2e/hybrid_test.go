package e2e

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackpal/bencode-go"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// admin sends an authenticated request to a tracker's registration API and
// returns the status code.
func admin(t *testing.T, tp *trackerProc, token, method, path string) int {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", tp.adminPort, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scrapeAll scrapes hashes in one request and returns complete,
// incomplete and downloaded of each, keyed as the answer keys them.
func scrapeAll(t *testing.T, tp *trackerProc, hashes ...[]byte) map[string][3]int64 {
	t.Helper()
	var q []string
	for _, h := range hashes {
		q = append(q, "info_hash="+url.QueryEscape(string(h)))
	}
	code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/scrape?%s", tp.httpPort, strings.Join(q, "&")))
	if code != 200 {
		t.Fatalf("scrape: HTTP %d", code)
	}
	v, err := bencode.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape reply %q: %v", body, err)
	}
	files, _ := v.(map[string]any)["files"].(map[string]any)
	out := map[string][3]int64{}
	for k, f := range files {
		st, _ := f.(map[string]any)
		c, _ := st["complete"].(int64)
		i, _ := st["incomplete"].(int64)
		d, _ := st["downloaded"].(int64)
		out[k] = [3]int64{c, i, d}
	}
	return out
}

// TestHybridRegistrationIsOneSwarmThroughTheTracker registers a hybrid
// torrent with both its hashes through the tracker binary's admin API and
// announces under each hash, as hybrid-aware clients do: in memory, on
// two replicas sharing Redis (registered on one, announced on the other),
// and on Redis Cluster.
func TestHybridRegistrationIsOneSwarmThroughTheTracker(t *testing.T) {
	const token = "e2e-admin-token-0123456789"
	env := []string{"TRACKER_ADMIN_TOKEN=" + token}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (a, b *trackerProc)
	}{
		{"memory", func(t *testing.T) (*trackerProc, *trackerProc) {
			tp := startTracker(t, "", env, "--registration")
			return tp, tp
		}},
		{"redis replicas", func(t *testing.T) (*trackerProc, *trackerProc) {
			u := "redis://" + testenv.StartRedis(t).Addr + "/0"
			return startTracker(t, "", env, "--registration", "--redis-url", u),
				startTracker(t, "", env, "--registration", "--redis-url", u)
		}},
		{"redis cluster", func(t *testing.T) (*trackerProc, *trackerProc) {
			addrs := strings.Join(testenv.StartRedisCluster(t), ",")
			tp := startTracker(t, "", env, "--registration", "--redis-addrs", addrs, "--redis-cluster")
			return tp, tp
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.start(t)
			v1 := bytes.Repeat([]byte{0x1e}, 20)
			v2full := bytes.Repeat([]byte{0x2f}, 32)
			v2 := v2full[:20] // what clients announce
			path := "/admin/torrents/" + hex.EncodeToString(v1) + "?v2=" + hex.EncodeToString(v2full)
			if code := admin(t, a, token, "PUT", path); code != 204 {
				t.Fatalf("PUT %s: HTTP %d", path, code)
			}

			// The origin seeds under v1 on replica a; a client
			// announces under v2 on replica b once b has the
			// registration (within a second).
			if r := announce(t, a.announceURL(), v1, "origin", 7001, 0, ""); r.Failure != "" {
				t.Fatalf("announce under v1: %s", r.Failure)
			}
			var got reply
			deadline := time.Now().Add(10 * time.Second)
			for {
				got = announce(t, b.announceURL(), v2, "client", 7002, 10, "")
				if got.Failure == "" || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if got.Failure != "" || got.Peers != "\x7f\x00\x00\x01\x1b\x59" || got.Complete != 1 || got.Incomplete != 1 {
				t.Fatalf("announce under v2: %+v, want the origin under v1", got)
			}
			if r := announce(t, a.announceURL(), v1, "origin", 7001, 0, ""); r.Peers != "\x7f\x00\x00\x01\x1b\x5a" {
				t.Fatalf("the origin under v1 got %+v, want the client under v2", r)
			}
			// The client announces under v1 too, finishes under v2
			// and says so under v1 as well: one peer, one download.
			announce(t, a.announceURL(), v1, "client", 7002, 10, "")
			announce(t, b.announceURL(), v2, "client", 7002, 0, "&event=completed")
			if r := announce(t, a.announceURL(), v1, "client", 7002, 0, "&event=completed"); r.Complete != 2 || r.Incomplete != 0 || r.Downloaded != 1 {
				t.Fatalf("after completing under both hashes: %+v, want 2 seeders, 0 leechers, 1 download", r)
			}
			// A scrape of either hash, on either replica, answers
			// the same, keyed by the hash asked for.
			for _, tp := range []*trackerProc{a, b} {
				st := scrapeAll(t, tp, v1, v2)
				want := [3]int64{2, 0, 1}
				if len(st) != 2 || st[string(v1)] != want || st[string(v2)] != want {
					t.Fatalf("scrape of both hashes: %v, want %v under each", st, want)
				}
			}

			// Withdrawn, neither hash is served.
			if code := admin(t, a, token, "DELETE", "/admin/torrents/"+hex.EncodeToString(v1)); code != 204 {
				t.Fatalf("DELETE: HTTP %d", code)
			}
			for _, h := range [][]byte{v1, v2} {
				deadline := time.Now().Add(10 * time.Second)
				for {
					r := announce(t, b.announceURL(), h, "client", 7002, 0, "")
					if strings.Contains(r.Failure, "unregistered torrent") {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("announce under %x after DELETE: %+v", h, r)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
}
