package udpfront

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/prometheus/client_golang/prometheus"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/udpwire"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type testServer struct {
	addr  netip.AddrPort
	clock *clock
	tr    *tracker.Tracker
}

func startServer(t *testing.T, network, host string, secret []byte, tr *tracker.Tracker, allow tracker.Allower) *testServer {
	t.Helper()
	return startServerConfig(t, network, host, tr, allow, Config{Secret: secret, Readers: 2})
}

// startServerConfig starts a server with cfg, whose clock it sets.
func startServerConfig(t *testing.T, network, host string, tr *tracker.Tracker, allow tracker.Allower, cfg Config) *testServer {
	t.Helper()
	if tr == nil {
		store, err := memstore.New(memstore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		tr, err = tracker.New(tracker.Config{Interval: 1800 * time.Second, MinInterval: 900 * time.Second, Jitter: -1}, store, allow)
		if err != nil {
			t.Fatal(err)
		}
	}
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)}
	cfg.Now = c.Now
	srv, err := New(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(host+":0")))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(conn); close(done) }()
	t.Cleanup(func() { conn.Close(); <-done })
	return &testServer{addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), clock: c, tr: tr}
}

type client struct {
	t    *testing.T
	conn *net.UDPConn
}

func dial(t *testing.T, to netip.AddrPort) *client {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn}
}

// roundTrip sends pkt and returns the answer, or nil if none came within
// wait.
func (c *client) roundTrip(pkt []byte, wait time.Duration) []byte {
	c.t.Helper()
	if _, err := c.conn.Write(pkt); err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	n, err := c.conn.Read(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return buf[:n]
}

func (c *client) connect() uint64 {
	c.t.Helper()
	reply := c.roundTrip(udpwire.AppendConnectRequest(nil, 77), 2*time.Second)
	tid, id, err := udpwire.ParseConnectResponse(reply)
	if err != nil || tid != 77 {
		c.t.Fatalf("connect: %x %v", reply, err)
	}
	return id
}

func (c *client) announce(id uint64, r udpwire.AnnounceRequest) []byte {
	c.t.Helper()
	r.ConnectionID = id
	r.TransactionID = 99
	return c.roundTrip(udpwire.AppendAnnounceRequest(nil, &r), 2*time.Second)
}

func mustAnnounce(t *testing.T, reply []byte, entrySize int) udpwire.AnnounceResponse {
	t.Helper()
	var ar udpwire.AnnounceResponse
	if err := udpwire.ParseAnnounceResponse(reply, entrySize, &ar); err != nil {
		if _, msg, e := udpwire.ParseError(reply); e == nil {
			t.Fatalf("announce answered with error %q", msg)
		}
		t.Fatalf("announce reply %x: %v", reply, err)
	}
	if ar.TransactionID != 99 {
		t.Fatalf("transaction ID %d, want 99", ar.TransactionID)
	}
	return ar
}

func ih(b byte) [20]byte { return [20]byte(bytes.Repeat([]byte{b}, 20)) }
func pid(s string) [20]byte {
	var id [20]byte
	copy(id[:], s)
	return id
}

func TestConnectAnnounceScrapeOverIPv4AndIPv6(t *testing.T) {
	for _, fam := range []struct {
		network, host string
		size          int
	}{{"udp4", "127.0.0.1", 6}, {"udp6", "[::1]", 18}} {
		t.Run(fam.network, func(t *testing.T) {
			s := startServer(t, fam.network, fam.host, nil, nil, nil)
			seeder, leecher := dial(t, s.addr), dial(t, s.addr)
			ar := mustAnnounce(t, seeder.announce(seeder.connect(), udpwire.AnnounceRequest{InfoHash: ih(1), PeerID: pid("seeder"), Event: udpwire.EventStarted, NumWant: -1, Port: 7001}), fam.size)
			if ar.Seeders != 1 || ar.Interval != 1800 || len(ar.Peers) != 0 {
				t.Fatalf("seeder's answer: %+v", ar)
			}
			ar = mustAnnounce(t, leecher.announce(leecher.connect(), udpwire.AnnounceRequest{InfoHash: ih(1), PeerID: pid("leecher"), Left: 100, Event: udpwire.EventStarted, NumWant: -1, Port: 7002}), fam.size)
			if ar.Seeders != 1 || ar.Leechers != 1 || len(ar.Peers) != fam.size {
				t.Fatalf("leecher's answer: %+v", ar)
			}
			if port := int(ar.Peers[fam.size-2])<<8 | int(ar.Peers[fam.size-1]); port != 7001 {
				t.Fatalf("peer port %d, want 7001", port)
			}
			reply := leecher.roundTrip(udpwire.AppendScrapeRequest(nil, leecher.connect(), 5, [][20]byte{ih(1), ih(2)}), 2*time.Second)
			tid, stats, err := udpwire.ParseScrapeResponse(reply, nil)
			if err != nil || tid != 5 || len(stats) != 2 || stats[0] != (udpwire.ScrapeStats{Seeders: 1, Leechers: 1}) || stats[1] != (udpwire.ScrapeStats{}) {
				t.Fatalf("scrape: %v %+v %v", tid, stats, err)
			}
		})
	}
}

func TestBadConnectionIDGetsAnErrorAndNeverTouchesTheStore(t *testing.T) {
	s := startServer(t, "udp4", "127.0.0.1", nil, nil, nil)
	c := dial(t, s.addr)
	reply := c.announce(12345, udpwire.AnnounceRequest{InfoHash: ih(3), PeerID: pid("x"), Port: 1, NumWant: -1})
	if _, msg, err := udpwire.ParseError(reply); err != nil || msg != msgBadConnID {
		t.Fatalf("reply %x (%q, %v), want a bad-connection-id error", reply, msg, err)
	}
	if len(reply) > udpwire.AnnounceRequestSize {
		t.Fatalf("error of %d bytes answers a %d-byte request: amplification", len(reply), udpwire.AnnounceRequestSize)
	}
	st := make([]tracker.ScrapeStats, 1)
	if err := s.tr.Scrape(t.Context(), []tracker.InfoHash{ih(3)}, st); err != nil || st[0] != (tracker.ScrapeStats{}) {
		t.Fatalf("the store saw the rejected announce: %+v %v", st[0], err)
	}
}

func TestForgedPacketsAreNeverAnsweredWithMoreBytesThanTheyHad(t *testing.T) {
	// One reader answers packets in the order they came, so everything
	// read before the answer to the marker connect that follows a packet
	// is that packet's answer.
	s := startServerConfig(t, "udp4", "127.0.0.1", nil, nil, Config{Readers: 1})
	c := dial(t, s.addr)
	const marker = 0xC0FFEE
	for _, action := range []udpwire.Action{udpwire.ActionConnect, udpwire.ActionAnnounce, udpwire.ActionScrape, udpwire.ActionError, 7} {
		for n := 0; n <= udpwire.AnnounceRequestSize+20; n++ {
			pkt := make([]byte, max(n, 16))
			binary.BigEndian.PutUint64(pkt, 0x0123456789abcdef) // forged: never issued
			if action == udpwire.ActionConnect {
				binary.BigEndian.PutUint64(pkt, udpwire.ProtocolID)
			}
			binary.BigEndian.PutUint32(pkt[8:], uint32(action))
			binary.BigEndian.PutUint32(pkt[12:], uint32(n))
			pkt = pkt[:n]
			if _, err := c.conn.Write(pkt); err != nil {
				t.Fatal(err)
			}
			if _, err := c.conn.Write(udpwire.AppendConnectRequest(nil, marker)); err != nil {
				t.Fatal(err)
			}
			answered := false
			for {
				c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
				buf := make([]byte, 2048)
				got, err := c.conn.Read(buf)
				if err != nil {
					t.Fatalf("action %d, %d bytes: no answer to the marker: %v", action, n, err)
				}
				if tid, _, err := udpwire.ParseConnectResponse(buf[:got]); err == nil && tid == marker {
					break
				}
				answered = true
				if got > n {
					t.Errorf("action %d: a %d-byte packet got a %d-byte answer %x", action, n, got, buf[:got])
				}
			}
			// Where the error fits, a client that sent a stale ID is
			// still told to connect again.
			errFits := n >= udpwire.ErrorResponseSize+len(msgBadConnID)
			if (action == udpwire.ActionAnnounce || action == udpwire.ActionScrape) && errFits && !answered {
				t.Errorf("action %d: a %d-byte packet with a bad connection ID got no error", action, n)
			}
		}
	}
}

func TestConnectionIDsExpireAfterTwoWindows(t *testing.T) {
	s := startServer(t, "udp4", "127.0.0.1", nil, nil, nil)
	c := dial(t, s.addr)
	id := c.connect()
	s.clock.advance(connIDWindow) // next window: still good
	mustAnnounce(t, c.announce(id, udpwire.AnnounceRequest{InfoHash: ih(1), PeerID: pid("a"), Port: 1, NumWant: -1}), 6)
	s.clock.advance(connIDWindow) // two windows on: expired
	if _, msg, err := udpwire.ParseError(c.announce(id, udpwire.AnnounceRequest{InfoHash: ih(1), PeerID: pid("a"), Port: 1})); err != nil || msg != msgBadConnID {
		t.Fatalf("expired ID accepted (%q, %v)", msg, err)
	}
}

func TestReplicasWithOneSecretAcceptEachOthersIDs(t *testing.T) {
	secret := []byte("0123456789abcdef-shared-secret")
	a := startServer(t, "udp4", "127.0.0.1", secret, nil, nil)
	b := startServer(t, "udp4", "127.0.0.1", secret, nil, nil)
	other := startServer(t, "udp4", "127.0.0.1", []byte("another secret, 16+ bytes"), nil, nil)
	// One client socket talks to all three, so its address is the same.
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ask := func(to netip.AddrPort, pkt []byte) []byte {
		if _, err := conn.WriteToUDPAddrPort(pkt, to); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 2048)
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
	_, id, err := udpwire.ParseConnectResponse(ask(a.addr, udpwire.AppendConnectRequest(nil, 1)))
	if err != nil {
		t.Fatal(err)
	}
	req := udpwire.AnnounceRequest{ConnectionID: id, TransactionID: 99, InfoHash: ih(1), PeerID: pid("p"), Port: 1, NumWant: -1}
	mustAnnounce(t, ask(b.addr, udpwire.AppendAnnounceRequest(nil, &req)), 6)
	if _, msg, err := udpwire.ParseError(ask(other.addr, udpwire.AppendAnnounceRequest(nil, &req))); err != nil || msg != msgBadConnID {
		t.Fatalf("a replica with another secret accepted the ID (%q, %v)", msg, err)
	}
}

func TestMalformedPacketsAreDroppedOrAnsweredBriefly(t *testing.T) {
	s := startServer(t, "udp4", "127.0.0.1", nil, nil, nil)
	c := dial(t, s.addr)
	id := c.connect()
	wrongProto := udpwire.AppendConnectRequest(nil, 1)
	wrongProto[7] ^= 1
	unknownAction := udpwire.AppendConnectRequest(nil, 1)
	unknownAction[11] = 9
	full := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{ConnectionID: id, Port: 1})
	badEvent := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{ConnectionID: id, Port: 1, Event: 7})
	zeroPort := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{ConnectionID: id})
	negUploaded := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{ConnectionID: id, Port: 1, Uploaded: -1})
	negDownloaded := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{ConnectionID: id, Port: 1, Downloaded: -1})
	negLeft := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{ConnectionID: id, Port: 1, Left: -1})
	badScrape := append(udpwire.AppendScrapeRequest(nil, id, 1, nil), 1, 2, 3)
	cases := []struct {
		name    string
		pkt     []byte
		wantErr string // "" for no answer at all
	}{
		{"empty", nil, ""},
		{"short", []byte{1, 2, 3}, ""},
		{"connect with wrong protocol ID", wrongProto, ""},
		{"unknown action", unknownAction, ""},
		{"truncated announce", full[:60], msgMalformed},
		{"bad option", append(append([]byte(nil), full...), 2, 9, 'x'), msgMalformed},
		{"unknown event", badEvent, string(tracker.ErrBadEvent)},
		{"port zero", zeroPort, string(tracker.ErrBadPort)},
		{"negative uploaded", negUploaded, string(tracker.ErrBadUploaded)},
		{"negative downloaded", negDownloaded, string(tracker.ErrBadDownloaded)},
		{"negative left", negLeft, string(tracker.ErrBadLeft)},
		{"scrape of partial hash", badScrape, msgMalformed},
	}
	for _, c2 := range cases {
		reply := c.roundTrip(c2.pkt, 300*time.Millisecond)
		if c2.wantErr == "" {
			if reply != nil {
				t.Errorf("%s: answered %x, want silence", c2.name, reply)
			}
			continue
		}
		if _, msg, err := udpwire.ParseError(reply); err != nil || msg != c2.wantErr {
			t.Errorf("%s: reply %x (%q), want error %q", c2.name, reply, msg, c2.wantErr)
		}
	}
	// Still serving.
	mustAnnounce(t, c.announce(c.connect(), udpwire.AnnounceRequest{InfoHash: ih(1), PeerID: pid("ok"), Port: 1, NumWant: -1}), 6)
}

func TestAnswersFitOnePacket(t *testing.T) {
	s := startServer(t, "udp6", "[::1]", nil, nil, nil)
	c := dial(t, s.addr)
	id := c.connect()
	for n := range 120 {
		// Many seeders from distinct ports of ::1.
		c.announce(id, udpwire.AnnounceRequest{InfoHash: ih(9), PeerID: pid("s" + strings.Repeat("x", n%10) + string(rune('a'+n%26)) + string(rune('a'+n/26))), Port: uint16(10000 + n), NumWant: 0})
	}
	reply := c.announce(id, udpwire.AnnounceRequest{InfoHash: ih(9), PeerID: pid("leech"), Left: 1, Port: 9, NumWant: 1000})
	ar := mustAnnounce(t, reply, 18)
	if len(ar.Peers) != 50*18 || len(reply) > 1232 {
		t.Fatalf("answer of %d bytes with %d peers: want 50 peers in one packet", len(reply), len(ar.Peers)/18)
	}
}

type denyAll struct{}

func (denyAll) Allowed(tracker.InfoHash) bool { return false }

func TestAllowListRefusalIsAnErrorPacket(t *testing.T) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tr, err := tracker.New(tracker.Config{}, store, denyAll{})
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "udp4", "127.0.0.1", nil, tr, nil)
	c := dial(t, s.addr)
	reply := c.announce(c.connect(), udpwire.AnnounceRequest{InfoHash: ih(1), PeerID: pid("p"), Port: 1})
	if _, msg, err := udpwire.ParseError(reply); err != nil || msg != string(tracker.ErrUnknownTorrent) {
		t.Fatalf("reply %x (%q)", reply, msg)
	}
}

func TestNewRejectsShortSecretAndHugeNumWant(t *testing.T) {
	store, _ := memstore.New(memstore.Config{})
	defer store.Close()
	tr, _ := tracker.New(tracker.Config{}, store, nil)
	if _, err := New(tr, Config{Secret: []byte("short")}); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := New(tr, Config{NumWantMax: 500}); err == nil {
		t.Error("numwant max 500 accepted")
	}
	for _, b := range []int{-1, maxBatch + 1} {
		if _, err := New(tr, Config{Batch: b}); err == nil {
			t.Errorf("batch %d accepted", b)
		}
	}
}

// requests_total counts answered requests: a forged packet too short for
// the bad-connection-ID error is dropped, and counts nothing.
func TestDroppedPacketsAreNotCountedAsAnswered(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := tracker.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := startServerConfig(t, "udp4", "127.0.0.1", nil, nil, Config{Readers: 1, Metrics: m})
	c := dial(t, s.addr)
	clientErrors := func() float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var n float64
		for _, f := range families {
			if f.GetName() != "bitorigin_tracker_requests_total" {
				continue
			}
			for _, mt := range f.GetMetric() {
				for _, l := range mt.GetLabel() {
					if l.GetName() == "result" && l.GetValue() == "client_error" {
						n += mt.GetCounter().GetValue()
					}
				}
			}
		}
		return n
	}
	// A header with a made-up connection ID and nothing else: 16 bytes,
	// shorter than the error it would get.
	forged := udpwire.AppendScrapeRequest(nil, 12345, 1, nil)[:16]
	if reply := c.roundTrip(forged, 300*time.Millisecond); reply != nil {
		t.Fatalf("a forged short packet was answered with %x", reply)
	}
	// A real client's announce with a bad ID is answered, and counted.
	full := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{ConnectionID: 12345, Port: 1})
	if _, msg, err := udpwire.ParseError(c.roundTrip(full, 2*time.Second)); err != nil || msg != msgBadConnID {
		t.Fatalf("announce with a bad connection ID: %q, %v", msg, err)
	}
	if n := clientErrors(); n != 1 {
		t.Fatalf("requests_total{result=client_error} = %v after one answered and one dropped packet, want 1", n)
	}
}
