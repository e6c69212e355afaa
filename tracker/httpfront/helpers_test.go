package httpfront

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackpal/bencode-go"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

// testTracker is a tracker with its HTTP frontend on an in-memory listener.
type testTracker struct {
	t     *testing.T
	srv   *Server
	ln    *fasthttputil.InmemoryListener
	store *memstore.Store
}

type testOpts struct {
	cfg   tracker.Config
	front Config
	allow tracker.Allower
}

func newTestTracker(t *testing.T, o testOpts) *testTracker {
	t.Helper()
	store, err := memstore.New(memstore.Config{Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if o.cfg.Jitter == 0 {
		o.cfg.Jitter = -1 // golden responses need a fixed interval
	}
	if o.cfg.Interval == 0 {
		o.cfg.Interval = 1800 * time.Second
		o.cfg.MinInterval = 900 * time.Second
	}
	tr, err := tracker.New(o.cfg, store, o.allow)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(tr, o.front)
	if err != nil {
		t.Fatal(err)
	}
	ln := fasthttputil.NewInmemoryListener()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return &testTracker{t: t, srv: srv, ln: ln, store: store}
}

// get sends one GET from the address from and returns status and body.
func (tt *testTracker) get(from string, target string, headers ...string) (int, []byte) {
	tt.t.Helper()
	return tt.do(from, "GET", target, headers...)
}

func (tt *testTracker) do(from, method, target string, headers ...string) (int, []byte) {
	tt.t.Helper()
	ap := netip.MustParseAddrPort(from)
	conn, err := tt.ln.DialWithLocalAddr(net.TCPAddrFromAddrPort(ap))
	if err != nil {
		tt.t.Fatal(err)
	}
	defer conn.Close()
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\n", method, target)
	if !slices.ContainsFunc(headers, func(h string) bool { return strings.HasPrefix(h, "Host:") }) {
		req.WriteString("Host: tracker\r\n")
	}
	for _, h := range headers {
		req.WriteString(h + "\r\n")
	}
	req.WriteString("Connection: close\r\n\r\n")
	if _, err := conn.Write([]byte(req.String())); err != nil {
		tt.t.Fatal(err)
	}
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(conn)); err != nil {
		tt.t.Fatalf("read response to %s: %v", target, err)
	}
	return resp.StatusCode(), append([]byte(nil), resp.Body()...)
}

// announceURL builds an announce for peer n (binary peer ID from n).
type announce struct {
	hash     tracker.InfoHash
	peer     int
	port     int
	left     int
	event    string
	extra    string
	numwant  int
	hasWant  bool
	nocompct bool
}

func peerID(n int) tracker.PeerID {
	var id tracker.PeerID
	copy(id[:], fmt.Sprintf("-TT0001-%012d", n))
	return id
}

func (a announce) url() string {
	id := peerID(a.peer)
	port := a.port
	if port == 0 {
		port = 6881 + a.peer
	}
	q := "info_hash=" + url.QueryEscape(string(a.hash[:])) +
		"&peer_id=" + url.QueryEscape(string(id[:])) +
		fmt.Sprintf("&port=%d&uploaded=0&downloaded=0&left=%d", port, a.left)
	if a.event != "" {
		q += "&event=" + a.event
	}
	if a.hasWant {
		q += fmt.Sprintf("&numwant=%d", a.numwant)
	}
	if a.nocompct {
		q += "&compact=0"
	}
	return "/announce?" + q + a.extra
}

func hashN(n int) tracker.InfoHash {
	var h tracker.InfoHash
	copy(h[:], fmt.Sprintf("hash-%015d", n))
	return h
}

// announceReply is the compact announce response as a client sees it.
type announceReply struct {
	Failure     string `bencode:"failure reason"`
	Complete    int    `bencode:"complete"`
	Incomplete  int    `bencode:"incomplete"`
	Downloaded  int    `bencode:"downloaded"`
	Interval    int    `bencode:"interval"`
	MinInterval int    `bencode:"min interval"`
	Peers       string `bencode:"peers"`
	Peers6      string `bencode:"peers6"`
}

type dictPeer struct {
	IP     string `bencode:"ip"`
	PeerID string `bencode:"peer id"`
	Port   int    `bencode:"port"`
}

type dictReply struct {
	Failure  string     `bencode:"failure reason"`
	Complete int        `bencode:"complete"`
	Peers    []dictPeer `bencode:"peers"`
}

type scrapeFile struct {
	Complete   int `bencode:"complete"`
	Downloaded int `bencode:"downloaded"`
	Incomplete int `bencode:"incomplete"`
}

type scrapeReply struct {
	Failure string
	Files   map[string]scrapeFile
}

// decodeScrape decodes a scrape response generically: bencode-go does not
// fill struct values inside a map.
func decodeScrape(t *testing.T, body []byte) scrapeReply {
	t.Helper()
	v, err := bencode.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("response is not valid bencode: %v\n%q", err, body)
	}
	top, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("response is not a dictionary: %q", body)
	}
	var r scrapeReply
	if f, ok := top["failure reason"].(string); ok {
		r.Failure = f
	}
	files, _ := top["files"].(map[string]any)
	r.Files = map[string]scrapeFile{}
	for k, fv := range files {
		d, ok := fv.(map[string]any)
		if !ok {
			t.Fatalf("files[%q] is not a dictionary: %q", k, body)
		}
		num := func(key string) int {
			n, ok := d[key].(int64)
			if !ok {
				t.Fatalf("files[%q][%q] missing or not an integer: %q", k, key, body)
			}
			return int(n)
		}
		r.Files[k] = scrapeFile{Complete: num("complete"), Downloaded: num("downloaded"), Incomplete: num("incomplete")}
	}
	return r
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := bencode.Unmarshal(bytes.NewReader(body), &v); err != nil {
		t.Fatalf("response is not valid bencode: %v\n%q", err, body)
	}
	return v
}

// announceOK announces and decodes a compact reply, failing on a failure.
func (tt *testTracker) announceOK(from string, a announce) announceReply {
	tt.t.Helper()
	code, body := tt.get(from, a.url())
	if code != 200 {
		tt.t.Fatalf("announce: HTTP %d: %s", code, body)
	}
	r := decode[announceReply](tt.t, body)
	if r.Failure != "" {
		tt.t.Fatalf("announce failed: %s", r.Failure)
	}
	return r
}
