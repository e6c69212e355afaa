package httpfront

import (
	"bytes"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/allowlist"
)

func TestGoldenResponses(t *testing.T) {
	tt := newTestTracker(t, testOpts{})
	h := hashN(1)
	// A seeder from 10.1.2.3:51413, then each case announces as a leecher.
	tt.announceOK("10.1.2.3:40000", announce{hash: h, peer: 1, port: 51413, left: 0, event: "started"})
	tt.announceOK("[2001:db8::7]:40000", announce{hash: h, peer: 2, port: 51414, left: 0, event: "started"})

	cases := []struct {
		name   string
		from   string
		a      announce
		golden string
	}{
		{"compact_ipv4", "10.9.9.9:1", announce{hash: h, peer: 3, left: 100}, "announce_compact_ipv4.golden"},
		{"compact_ipv6", "[2001:db8::9]:1", announce{hash: h, peer: 4, left: 100}, "announce_compact_ipv6.golden"},
		{"dict_ipv4", "10.9.9.8:1", announce{hash: h, peer: 5, left: 100, nocompct: true}, "announce_dict_ipv4.golden"},
		{"dict_no_peer_id", "10.9.9.7:1", announce{hash: h, peer: 6, left: 100, nocompct: true, extra: "&no_peer_id=1"}, "announce_dict_no_peer_id.golden"},
		{"dict_ipv6", "[2001:db8::8]:1", announce{hash: h, peer: 7, left: 100, nocompct: true}, "announce_dict_ipv6.golden"},
		{"stopped", "10.9.9.6:1", announce{hash: h, peer: 8, left: 100, event: "stopped"}, "announce_stopped.golden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := tt.get(c.from, c.a.url())
			if code != 200 {
				t.Fatalf("HTTP %d", code)
			}
			checkGolden(t, c.golden, body)
			// Leave the swarm as it was for the next case.
			stop := c.a
			stop.event = "stopped"
			tt.get(c.from, stop.url())
		})
	}
	t.Run("scrape", func(t *testing.T) {
		code, body := tt.get("10.9.9.9:1", "/scrape?info_hash="+url.QueryEscape(string(h[:]))+"&info_hash="+url.QueryEscape(string(hashN(2).String()[:20])))
		if code != 200 {
			t.Fatalf("HTTP %d", code)
		}
		checkGolden(t, "scrape.golden", body)
	})
	t.Run("failure", func(t *testing.T) {
		_, body := tt.get("10.9.9.9:1", "/announce?port=1&left=0")
		checkGolden(t, "failure_missing_info_hash.golden", body)
	})
}

var update = os.Getenv("UPDATE_GOLDEN") != ""

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (UPDATE_GOLDEN=1 writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("response differs from %s\n got: %q\nwant: %q", path, got, want)
	}
}

func TestMalformedAnnouncesGetAFailureReason(t *testing.T) {
	tt := newTestTracker(t, testOpts{})
	good := announce{hash: hashN(1), peer: 1, left: 5}.url()
	id := peerID(1)
	ih := url.QueryEscape(string(hashN(1).String()[:20]))
	pid := url.QueryEscape(string(id[:]))
	base := "/announce?info_hash=" + ih + "&peer_id=" + pid
	cases := []struct {
		query string
		want  tracker.Failure
	}{
		{"/announce", tracker.ErrMissingInfoHash},
		{"/announce?peer_id=" + pid + "&port=1", tracker.ErrMissingInfoHash},
		{"/announce?info_hash=short&peer_id=" + pid + "&port=1", tracker.ErrBadInfoHash},
		{"/announce?info_hash=" + strings.Repeat("a", 21) + "&peer_id=" + pid + "&port=1", tracker.ErrBadInfoHash},
		{"/announce?info_hash=" + ih + "&port=1", tracker.ErrMissingPeerID},
		{"/announce?info_hash=" + ih + "&peer_id=abc&port=1", tracker.ErrBadPeerID},
		{base, tracker.ErrMissingPort},
		{base + "&port=0", tracker.ErrBadPort},
		{base + "&port=65536", tracker.ErrBadPort},
		{base + "&port=-1", tracker.ErrBadPort},
		{base + "&port=http", tracker.ErrBadPort},
		{base + "&port=1", tracker.ErrMissingLeft},
		{base + "&port=1&uploaded=0&downloaded=0", tracker.ErrMissingLeft},
		{base + "&port=1&uploaded=ten", tracker.ErrBadUploaded},
		{base + "&port=1&uploaded=-5", tracker.ErrBadUploaded},
		{base + "&port=1&downloaded=1e3", tracker.ErrBadDownloaded},
		{base + "&port=1&left=99999999999999999999", tracker.ErrBadLeft},
		{base + "&port=1&left=", tracker.ErrBadLeft},
		{base + "&port=1&event=finished", tracker.ErrBadEvent},
		{base + "&port=1&numwant=lots", tracker.ErrBadNumWant},
		{base + "&port=1&compact=yes", tracker.ErrBadCompact},
		{base + "&port=1&key=%zz", tracker.ErrBadEscape},
		{base + "&port=1&key=%4", tracker.ErrBadEscape},
		{base + "&port=1&key=%", tracker.ErrBadEscape},
		{"/announce?info_hash=%G0" + strings.Repeat("%00", 19) + "&peer_id=" + pid + "&port=1", tracker.ErrBadEscape},
		{base + "&port=1&info_hash=" + ih, tracker.ErrDuplicateParam},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			code, body := tt.get("10.0.0.1:1", c.query)
			if code != 200 {
				t.Fatalf("HTTP %d, want 200 with a failure reason", code)
			}
			r := decode[announceReply](t, body)
			if r.Failure != string(c.want) {
				t.Fatalf("failure reason %q, want %q", r.Failure, c.want)
			}
		})
	}
	// The good one still works after all that.
	if _, body := tt.get("10.0.0.1:1", good); decode[announceReply](t, body).Failure != "" {
		t.Fatalf("good announce failed: %s", body)
	}
}

func TestInfoHashIsBinarySafe(t *testing.T) {
	tt := newTestTracker(t, testOpts{})
	// %00, a literal '+', %2B and raw bytes above 0x7f in one info hash.
	raw := "%00+%2B" + "\xff\xfe\x80" + "%7F" + strings.Repeat("%00", 13)
	want := tracker.InfoHash{0, ' ', '+', 0xff, 0xfe, 0x80, 0x7f}
	id := peerID(1)
	q := "/announce?info_hash=" + raw + "&peer_id=" + url.QueryEscape(string(id[:])) + "&port=7000&left=0"
	code, body := tt.get("10.0.0.1:1", q)
	if r := decode[announceReply](t, body); code != 200 || r.Failure != "" {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	_, body = tt.get("10.0.0.2:1", "/scrape?info_hash="+url.QueryEscape(string(want[:])))
	files := decodeScrape(t, body).Files
	if files[string(want[:])].Complete != 1 {
		t.Fatalf("the binary info hash was not stored as sent: %q", body)
	}
}

func TestPeerSelectionOverHTTP(t *testing.T) {
	tt := newTestTracker(t, testOpts{cfg: tracker.Config{NumWantDefault: 5, NumWantMax: 8}})
	h := hashN(1)
	for n := range 10 {
		tt.announceOK(fmt.Sprintf("10.0.0.%d:1", n+1), announce{hash: h, peer: n, left: 0})
	}
	for n := 10; n < 20; n++ {
		tt.announceOK(fmt.Sprintf("10.0.1.%d:1", n), announce{hash: h, peer: n, left: 10})
	}
	r := tt.announceOK("10.0.2.1:1", announce{hash: h, peer: 99, left: 10})
	if len(r.Peers) != 5*6 {
		t.Errorf("default numwant: got %d peers, want 5", len(r.Peers)/6)
	}
	if r.Complete != 10 || r.Incomplete != 11 {
		t.Errorf("complete/incomplete = %d/%d, want 10/11", r.Complete, r.Incomplete)
	}
	r = tt.announceOK("10.0.2.1:1", announce{hash: h, peer: 99, left: 10, numwant: 1000, hasWant: true})
	if len(r.Peers) != 8*6 {
		t.Errorf("numwant above the cap: got %d peers, want 8", len(r.Peers)/6)
	}
	r = tt.announceOK("10.0.2.1:1", announce{hash: h, peer: 99, left: 10, numwant: 0, hasWant: true})
	if len(r.Peers) != 0 {
		t.Errorf("numwant=0: got %d peers", len(r.Peers)/6)
	}
	// A seeder gets only leechers, never itself.
	for range 10 {
		r = tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 0, left: 0, numwant: 8, hasWant: true})
		for i := 0; i < len(r.Peers); i += 6 {
			ip := netip.AddrFrom4([4]byte([]byte(r.Peers[i : i+4])))
			if ip.As4()[2] != 1 && ip.As4()[2] != 2 {
				t.Fatalf("seeder received non-leecher %s", ip)
			}
		}
	}
}

func TestStoppedAndCompletedOverHTTP(t *testing.T) {
	tt := newTestTracker(t, testOpts{})
	h := hashN(1)
	tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 1, left: 10, event: "started"})
	tt.announceOK("10.0.0.2:1", announce{hash: h, peer: 2, left: 10, event: "started"})
	r := tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 1, left: 0, event: "completed"})
	if r.Complete != 1 || r.Incomplete != 1 || r.Downloaded != 1 {
		t.Fatalf("after completed: %+v", r)
	}
	r = tt.announceOK("10.0.0.2:1", announce{hash: h, peer: 2, left: 10, event: "stopped"})
	if r.Incomplete != 0 || len(r.Peers) != 0 {
		t.Fatalf("after stopped: %+v", r)
	}
}

// libtorrent 2.0 sends "Host: ::1:6969" for http://[::1]:6969/announce;
// fasthttp alone answers 400 before the handler runs.
func TestAnIPv6HostWithoutBracketsIsAnswered(t *testing.T) {
	tt := newTestTracker(t, testOpts{})
	a := announce{hash: hashN(1), peer: 1, port: 7001, left: 5}
	for _, host := range []string{"::1:6969", "2001:db8::1:6969", "::1", "[::1]:6969", "127.0.0.1:6969"} {
		code, body := tt.get("[::1]:1", a.url(), "Host: "+host)
		if code != 200 {
			t.Fatalf("Host %q: HTTP %d %q", host, code, body)
		}
		if r := decode[announceReply](t, body); r.Failure != "" {
			t.Fatalf("Host %q: failure %q", host, r.Failure)
		}
	}
}

func TestIPv6AnnouncerGetsPeers6(t *testing.T) {
	tt := newTestTracker(t, testOpts{})
	h := hashN(1)
	tt.announceOK("[2001:db8::1]:1", announce{hash: h, peer: 1, port: 7001, left: 0})
	tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 2, port: 7002, left: 0})
	r := tt.announceOK("[2001:db8::2]:1", announce{hash: h, peer: 3, left: 5})
	if len(r.Peers6) != 18 || len(r.Peers) != 0 {
		t.Fatalf("IPv6 announcer: peers %x, peers6 %x", r.Peers, r.Peers6)
	}
	want := append(netip.MustParseAddr("2001:db8::1").AsSlice(), 0x1b, 0x59)
	if r.Peers6 != string(want) {
		t.Fatalf("peers6 = %x, want %x", r.Peers6, want)
	}
	r = tt.announceOK("10.0.0.2:1", announce{hash: h, peer: 4, left: 5})
	if len(r.Peers) != 6 || r.Peers6 != "" {
		t.Fatalf("IPv4 announcer: peers %x, peers6 %x", r.Peers, r.Peers6)
	}
}

func TestDualStackAnnouncerWithAKeyIsOnePeer(t *testing.T) {
	// The key parameter reaches the store: one peer ID with one key over
	// both families is one seeder; with other keys (libtorrent's %08X and
	// our seeder's lower-case hex of one number are the same key) or none,
	// two.
	tt := newTestTracker(t, testOpts{})
	for i, c := range []struct {
		k4, k6 string
		want   int
	}{
		{"&key=1A2B3C4D", "&key=1a2b3c4d", 1},
		{"&key=1A2B3C4D", "&key=1A2B3C4E", 2},
		{"", "", 2},
	} {
		h := hashN(10 + i)
		tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 1, port: 7001, extra: c.k4})
		r := tt.announceOK("[2001:db8::1]:1", announce{hash: h, peer: 1, port: 7001, extra: c.k6})
		if r.Complete != c.want || r.Incomplete != 0 {
			t.Errorf("keys %q and %q: complete %d, incomplete %d; want %d seeders", c.k4, c.k6, r.Complete, r.Incomplete, c.want)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	proxies, err := ParsePrefixes("10.200.0.0/16, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tt := newTestTracker(t, testOpts{front: Config{TrustedProxies: proxies}})
	h := hashN(1)
	cases := []struct {
		name    string
		from    string
		headers []string
		extra   string
		want    string
	}{
		{"untrusted source: header ignored", "203.0.113.5:1", []string{"X-Forwarded-For: 1.2.3.4"}, "", "203.0.113.5"},
		{"untrusted source: ip ignored", "203.0.113.6:1", nil, "&ip=1.2.3.4", "203.0.113.6"},
		{"trusted: right-most untrusted hop", "10.200.0.1:1", []string{"X-Forwarded-For: 6.6.6.6, 198.51.100.7, 10.200.3.3"}, "", "198.51.100.7"},
		{"trusted single address", "192.0.2.1:1", []string{"X-Forwarded-For: 198.51.100.8"}, "", "198.51.100.8"},
		{"trusted: X-Real-IP", "10.200.0.1:1", []string{"X-Real-IP: 198.51.100.9"}, "", "198.51.100.9"},
		{"trusted: garbage hop stops the walk", "10.200.0.1:1", []string{"X-Forwarded-For: 198.51.100.1, junk"}, "", "10.200.0.1"},
		{"trusted: ip parameter honoured", "10.200.0.1:1", nil, "&ip=198.51.100.10", "198.51.100.10"},
		{"trusted: ipv4 beats ip", "10.200.0.1:1", nil, "&ipv4=198.51.100.11&ip=198.51.100.12", "198.51.100.11"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := announce{hash: h, peer: 100 + i, port: 7000, left: 10, extra: c.extra}
			code, body := tt.get(c.from, a.url(), c.headers...)
			if r := decode[announceReply](t, body); code != 200 || r.Failure != "" {
				t.Fatalf("HTTP %d: %s", code, body)
			}
			// A seeder announcing right after sees the leecher's address.
			r := tt.announceOK("10.99.0.1:1", announce{hash: h, peer: 1, left: 0, numwant: 200, hasWant: true})
			want := append(netip.MustParseAddr(c.want).AsSlice(), 0x1b, 0x58)
			if !strings.Contains(r.Peers, string(want)) {
				t.Fatalf("leecher stored under another address; peers %x, want %s:7000", r.Peers, c.want)
			}
			stop := a
			stop.event = "stopped"
			tt.get(c.from, stop.url(), c.headers...)
		})
	}
}

func TestAllowList(t *testing.T) {
	allowed := hashN(1)
	list, err := allowlist.Parse(strings.NewReader(allowed.String() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	tt := newTestTracker(t, testOpts{allow: setAllower(list)})
	tt.announceOK("10.0.0.1:1", announce{hash: allowed, peer: 1, left: 0})
	_, body := tt.get("10.0.0.1:1", announce{hash: hashN(2), peer: 1, left: 0}.url())
	if r := decode[announceReply](t, body); r.Failure != string(tracker.ErrUnknownTorrent) {
		t.Fatalf("announce of unlisted torrent: %q", body)
	}
	_, body = tt.get("10.0.0.1:1", "/scrape?info_hash="+url.QueryEscape(string(hashN(2).String()[:20])))
	if r := decodeScrape(t, body); r.Failure != string(tracker.ErrUnknownTorrent) {
		t.Fatalf("scrape of unlisted torrent: %q", body)
	}
}

type setAllower map[tracker.InfoHash]struct{}

func (s setAllower) Allowed(h tracker.InfoHash) bool { _, ok := s[h]; return ok }

func TestScrapeLimits(t *testing.T) {
	tt := newTestTracker(t, testOpts{cfg: tracker.Config{ScrapeMax: 3}})
	q := "/scrape?"
	for n := range 4 {
		h := hashN(n)
		q += "info_hash=" + url.QueryEscape(string(h[:])) + "&"
	}
	_, body := tt.get("10.0.0.1:1", q)
	if r := decodeScrape(t, body); r.Failure != string(tracker.ErrTooManyInfoHash) {
		t.Fatalf("4 hashes with a cap of 3: %q", body)
	}
	// Duplicates collapse into one key, as a bencode dictionary needs.
	h := hashN(1)
	e := url.QueryEscape(string(h[:]))
	_, body = tt.get("10.0.0.1:1", "/scrape?info_hash="+e+"&info_hash="+e)
	if r := decodeScrape(t, body); r.Failure != "" || len(r.Files) != 1 {
		t.Fatalf("duplicate hashes: %q", body)
	}
	_, body = tt.get("10.0.0.1:1", "/scrape?info_hash=abc")
	if r := decodeScrape(t, body); r.Failure != string(tracker.ErrBadInfoHash) {
		t.Fatalf("short hash: %q", body)
	}
	_, body = tt.get("10.0.0.1:1", "/scrape")
	if r := decodeScrape(t, body); r.Failure != string(tracker.ErrFullScrapeOff) {
		t.Fatalf("full scrape while off: %q", body)
	}
}

func TestFullScrapeWhenOn(t *testing.T) {
	tt := newTestTracker(t, testOpts{cfg: tracker.Config{FullScrape: true}})
	for n := range 3 {
		tt.announceOK("10.0.0.1:1", announce{hash: hashN(n), peer: n, left: 0})
	}
	_, body := tt.get("10.0.0.1:1", "/scrape")
	r := decodeScrape(t, body)
	if r.Failure != "" || len(r.Files) != 3 {
		t.Fatalf("full scrape: %q", body)
	}
	for n := range 3 {
		h := hashN(n)
		if r.Files[string(h[:])].Complete != 1 {
			t.Errorf("torrent %d: %+v in %q", n, r.Files[string(h[:])], body)
		}
	}
}

func TestUnknownPathsMethodsAndOversizedRequests(t *testing.T) {
	tt := newTestTracker(t, testOpts{front: Config{MaxRequestSize: 2048}})
	if code, _ := tt.get("10.0.0.1:1", "/"); code != 404 {
		t.Errorf("GET /: HTTP %d, want 404", code)
	}
	if code, _ := tt.get("10.0.0.1:1", "/announce.php"); code != 404 {
		t.Errorf("GET /announce.php: HTTP %d, want 404", code)
	}
	if code, _ := tt.do("10.0.0.1:1", "POST", "/announce"); code != 405 {
		t.Errorf("POST /announce: HTTP %d, want 405", code)
	}
	code, _ := tt.get("10.0.0.1:1", "/announce?"+strings.Repeat("x", 4000))
	if code != 431 && code != 414 && code != 400 {
		t.Errorf("oversized request line: HTTP %d, want a 4xx", code)
	}
	// Still serving after all that.
	tt.announceOK("10.0.0.1:1", announce{hash: hashN(1), peer: 1, left: 0})
}

func TestIntervalHasJitterWithinBounds(t *testing.T) {
	tt := newTestTracker(t, testOpts{cfg: tracker.Config{Interval: 1000 * time.Second, MinInterval: 100 * time.Second, Jitter: 0.1}})
	seen := map[int]bool{}
	for n := range 50 {
		r := tt.announceOK("10.0.0.1:1", announce{hash: hashN(1), peer: n, left: 1})
		if r.Interval < 900 || r.Interval > 1100 {
			t.Fatalf("interval %d outside 1000±10%%", r.Interval)
		}
		if r.MinInterval != 100 {
			t.Fatalf("min interval %d, want 100", r.MinInterval)
		}
		seen[r.Interval] = true
	}
	if len(seen) < 5 {
		t.Fatalf("50 announces saw only %d distinct intervals: no jitter", len(seen))
	}
}

func TestParsePrefixes(t *testing.T) {
	ps, err := ParsePrefixes("10.0.0.0/8, 2001:db8::/32,192.0.2.7,::ffff:10.0.0.0/104")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 || ps[2].Bits() != 32 || ps[3].Bits() != 8 {
		t.Fatalf("got %v", ps)
	}
	for _, bad := range []string{"10.0.0.0/33", "nonsense", "10.0.0/8"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
}

func TestUnescape(t *testing.T) {
	cases := []struct {
		in, want string
		err      bool
	}{
		{"abc", "abc", false},
		{"a%20b+c", "a b c", false},
		{"%00%ff%FF%2b", "\x00\xff\xff+", false},
		{"%", "", true},
		{"%a", "", true},
		{"%ag", "", true},
		{"x%", "", true},
	}
	for _, c := range cases {
		got, err := unescape(nil, []byte(c.in))
		if (err != nil) != c.err || (!c.err && string(got) != c.want) {
			t.Errorf("unescape(%q) = %q, %v; want %q, err=%v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestParseUintRejectsOverflow(t *testing.T) {
	if _, ok := parseUint([]byte("9223372036854775807")); !ok {
		t.Error("max int64 rejected")
	}
	if _, ok := parseUint([]byte("9223372036854775808")); ok {
		t.Error("max int64 + 1 accepted")
	}
	if n, ok := parseInt([]byte("-1")); !ok || n != -1 {
		t.Error("-1 not parsed")
	}
}

func TestNonCompactPeersCarryPeerIDsUnlessAskedNot(t *testing.T) {
	tt := newTestTracker(t, testOpts{})
	h := hashN(1)
	tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 1, port: 7001, left: 0})
	tt.announceOK("[2001:db8::1]:1", announce{hash: h, peer: 2, port: 7002, left: 0})
	_, body := tt.get("10.0.0.2:1", announce{hash: h, peer: 3, left: 5, nocompct: true}.url())
	r := decode[dictReply](t, body)
	id := peerID(1)
	if r.Failure != "" || len(r.Peers) != 1 || r.Peers[0] != (dictPeer{IP: "10.0.0.1", PeerID: string(id[:]), Port: 7001}) {
		t.Fatalf("IPv4 dict peers: %+v", r)
	}
	_, body = tt.get("[2001:db8::2]:1", announce{hash: h, peer: 4, left: 5, nocompct: true, extra: "&no_peer_id=1"}.url())
	r = decode[dictReply](t, body)
	if r.Failure != "" || len(r.Peers) != 1 || r.Peers[0] != (dictPeer{IP: "2001:db8::1", Port: 7002}) {
		t.Fatalf("IPv6 dict peers without peer id: %+v", r)
	}
	if r.Complete != 2 {
		t.Fatalf("complete = %d, want 2", r.Complete)
	}
}

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
	}{
		{"", 0},
		{"0", 0},
		{"00000000", 0},
		{"1a2b3c4d", 0x1a2b3c4d},
		{"1A2B3C4D", 0x1a2b3c4d}, // libtorrent's %08X
		{"ff", 0xff},             // our seeder's unpadded hex
	} {
		if got := parseKey([]byte(c.in)); got != c.want {
			t.Errorf("parseKey(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
	// Anything else is hashed: never 0, and not the same for two keys.
	a, b := parseKey([]byte("aBcD1234xyz")), parseKey([]byte("aBcD1234xyZ"))
	if a == 0 || b == 0 || a == b {
		t.Fatalf("hashed keys %#x and %#x", a, b)
	}
}
