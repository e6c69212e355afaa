package httpfront

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bitorigin/bitorigin/bencode"
	"github.com/bitorigin/bitorigin/tracker"
)

func TestFullScrapeGolden(t *testing.T) {
	tt := newTestTracker(t, testOpts{cfg: tracker.Config{FullScrape: true}})
	for n := range 3 {
		tt.announceOK("10.0.0.1:1", announce{hash: hashN(n), peer: n, left: n % 2})
	}
	code, body := tt.get("10.0.0.1:1", "/scrape")
	if code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	checkGolden(t, "scrape_full.golden", body)
}

func TestGoldenResponsesAreCanonicalBencode(t *testing.T) {
	files, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := bencode.NewDecoder(b)
		d.SortedKeys = true
		if err := d.Skip(); err != nil || len(d.Rest()) != 0 {
			t.Errorf("%s: %v, %d bytes after the value", f, err, len(d.Rest()))
		}
	}
}

func TestResponsesAppendWithoutAllocating(t *testing.T) {
	peers4 := make([]byte, 50*6)
	peers6 := make([]byte, 50*18)
	ids := make([]byte, 50*20)
	hashes := []tracker.InfoHash{hashN(1), hashN(2)}
	stats := []tracker.ScrapeStats{{Seeders: 1}, {Leechers: 2, Downloaded: 3}}
	resp := func(peers []byte) *tracker.AnnounceResponse {
		return &tracker.AnnounceResponse{IntervalSeconds: 1800, MinIntervalSeconds: 900,
			Swarm: tracker.SwarmAnswer{Seeders: 10, Leechers: 20, Downloaded: 3, Peers: peers, PeerIDs: ids}}
	}
	r4, r6 := resp(peers4), resp(peers6)
	buf := make([]byte, 0, 8192)
	for _, tc := range []struct {
		name  string
		write func([]byte) []byte
	}{
		{"compact IPv4 announce", func(b []byte) []byte { return appendAnnounce(b, r4, true, false, false) }},
		{"compact IPv6 announce", func(b []byte) []byte { return appendAnnounce(b, r6, true, true, false) }},
		{"dictionary IPv4 announce", func(b []byte) []byte { return appendAnnounce(b, r4, false, false, true) }},
		{"dictionary IPv6 announce", func(b []byte) []byte { return appendAnnounce(b, r6, false, true, true) }},
		{"scrape", func(b []byte) []byte { return appendScrape(b, hashes, stats) }},
		{"failure", func(b []byte) []byte { return appendFailure(b, string(tracker.ErrUnknownTorrent)) }},
	} {
		if n := testing.AllocsPerRun(100, func() { buf = tc.write(buf[:0]) }); n != 0 {
			t.Errorf("%s: %v allocations", tc.name, n)
		}
	}
}
