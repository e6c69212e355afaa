package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/udpwire"
)

// TestTrackerSurvivesIdleConnections holds hundreds of connections that
// send half a request and then nothing (slowloris), and expects announces
// to be answered meanwhile and the idle ones to be cut at the read timeout.
func TestTrackerSurvivesIdleConnections(t *testing.T) {
	tp := startTracker(t, "", nil, "--read-timeout", "2s", "--idle-timeout", "2s")
	addr := fmt.Sprintf("127.0.0.1:%d", tp.httpPort)
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range 400 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(idle), err)
		}
		c.Write([]byte("GET /announce?info_hash=")) // and never the rest
		idle = append(idle, c)
	}
	hash := bytes.Repeat([]byte{0x11}, 20)
	start := time.Now()
	if r := announce(t, tp.announceURL(), hash, "legit", 7001, 0, ""); r.Failure != "" {
		t.Fatalf("announce with 400 idle connections open: %s", r.Failure)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("announce took %s with idle connections open", d)
	}
	// The tracker closes them after the read timeout.
	closed := 0
	for _, c := range idle[:50] {
		c.SetReadDeadline(time.Now().Add(6 * time.Second))
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				closed++
				break
			}
		}
	}
	if closed != 50 {
		t.Fatalf("%d of 50 idle connections closed", closed)
	}
}

// TestTrackerBoundsAFloodOfRandomInfoHashes sends announces for thousands
// of random torrents at a tracker capped at 200: memory stays bounded,
// known swarms keep working, and the excess is told why.
func TestTrackerBoundsAFloodOfRandomInfoHashes(t *testing.T) {
	tp := startTracker(t, "", nil, "--max-torrents", "200")
	known := bytes.Repeat([]byte{0x22}, 20)
	announce(t, tp.announceURL(), known, "seed", 7001, 0, "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				h := make([]byte, 20)
				rand.Read(h)
				r := announce(t, tp.announceURL(), h, fmt.Sprintf("flood-%d-%d", w, i), 7002, 5, "")
				if strings.Contains(r.Failure, "limit") {
					mu.Lock()
					refused++
					mu.Unlock()
				} else if r.Failure != "" {
					t.Errorf("flood announce: %s", r.Failure)
					return
				}
			}
		}()
	}
	wg.Wait()
	if refused < 2000-200 {
		t.Fatalf("only %d of 2000 new torrents refused with a cap of 200", refused)
	}
	if r := announce(t, tp.announceURL(), known, "leech", 7003, 5, ""); r.Failure != "" || r.Complete != 1 {
		t.Fatalf("known swarm during the flood: %+v", r)
	}
	if m := scrapeMetrics(t, tp.adminPort); m["bitorigin_tracker_torrents"] > 200 {
		t.Fatalf("%v torrents kept with a cap of 200", m["bitorigin_tracker_torrents"])
	}
}

// TestTrackerShrugsOffAUDPFloodWithBadConnectionIDs sends thousands of
// announces with forged connection IDs while a client announces properly.
func TestTrackerShrugsOffAUDPFloodWithBadConnectionIDs(t *testing.T) {
	tp := startTracker(t, "", nil)
	to := netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(tp.httpPort))
	flood, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	stop := make(chan struct{})
	done := make(chan int)
	var flooded atomic.Int64
	go func() {
		sent := 0
		req := udpwire.AnnounceRequest{InfoHash: [20]byte{0x33}, Port: 1, NumWant: 50}
		for {
			select {
			case <-stop:
				done <- sent
				return
			default:
			}
			req.ConnectionID = uint64(sent) * 0x9E3779B97F4A7C15
			flood.Write(udpwire.AppendAnnounceRequest(nil, &req))
			sent++
			flooded.Store(int64(sent))
			if sent%200 == 0 {
				time.Sleep(time.Millisecond) // keep the loop from starving the test
			}
		}
	}()
	conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ask := func(pkt []byte) []byte {
		for try := 0; try < 5; try++ {
			conn.Write(pkt)
			conn.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 2048)
			n, err := conn.Read(buf)
			if err == nil {
				return buf[:n]
			}
		}
		t.Fatal("no answer during the flood")
		return nil
	}
	eventually(t, "the flood to reach the tracker", func() bool {
		m := scrapeMetrics(t, tp.adminPort)
		return m[`bitorigin_tracker_requests_total{action="announce",protocol="udp",result="client_error"}`] >= 100
	}, func() string { return "" })
	for i := range 20 {
		_, id, err := udpwire.ParseConnectResponse(ask(udpwire.AppendConnectRequest(nil, uint32(i))))
		if err != nil {
			t.Fatal(err)
		}
		req := udpwire.AnnounceRequest{ConnectionID: id, TransactionID: 99, InfoHash: [20]byte{0x44}, Port: 7001, NumWant: 50}
		var ar udpwire.AnnounceResponse
		if err := udpwire.ParseAnnounceResponse(ask(udpwire.AppendAnnounceRequest(nil, &req)), 6, &ar); err != nil {
			t.Fatalf("legit announce %d during the flood: %v", i, err)
		}
	}
	// The legit announces can all be through before the flood has sent a
	// thousand packets (seen on a quiet machine): let it reach that first.
	eventually(t, "the flood to send 1,000 packets", func() bool { return flooded.Load() >= 1000 }, func() string { return "" })
	close(stop)
	sent := <-done
	m := scrapeMetrics(t, tp.adminPort)
	bad := m[`bitorigin_tracker_requests_total{action="announce",protocol="udp",result="client_error"}`]
	if sent < 1000 || bad < float64(sent)/4 {
		t.Fatalf("flood of %d packets, %v counted as refused", sent, bad)
	}
	// None of the forged announces reached the store.
	if m[`bitorigin_tracker_store_duration_seconds_count{operation="announce"}`] != 20 {
		t.Fatalf("store saw %v announces, want the 20 legit ones", m[`bitorigin_tracker_store_duration_seconds_count{operation="announce"}`])
	}
}

// TestSlowRedisIsAFailureReasonNotAPileUp makes Redis stall (DEBUG SLEEP)
// under a running tracker.
func TestSlowRedisIsAFailureReasonNotAPileUp(t *testing.T) {
	// Redis 7 refuses DEBUG unless told otherwise.
	r := testenv.StartRedis(t, "--enable-debug-command", "yes")
	tp := startTracker(t, "", nil, "--redis-url", "redis://"+r.Addr+"/0", "--redis-timeout", "200ms")
	hash := bytes.Repeat([]byte{0x55}, 20)
	if got := announce(t, tp.announceURL(), hash, "p1", 7001, 0, ""); got.Failure != "" {
		t.Fatalf("with Redis fast: %s", got.Failure)
	}
	sleep := make(chan error, 1)
	go func() {
		_, err := r.CLI("debug", "sleep", "5")
		sleep <- err
	}()
	// Asleep once an announce fails for it.
	eventually(t, "Redis to be asleep", func() bool {
		return strings.Contains(announce(t, tp.announceURL(), hash, "p1", 7001, 0, "").Failure, "temporarily unavailable")
	}, func() string { return "" })
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := announce(t, tp.announceURL(), hash, fmt.Sprintf("p%d", i+2), 7002+i, 10, "")
			if !strings.Contains(got.Failure, "temporarily unavailable") {
				t.Errorf("with Redis asleep: %+v", got)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("20 announces took %s with Redis asleep: they piled up", d)
	}
	if err := <-sleep; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := announce(t, tp.announceURL(), hash, "p1", 7001, 0, "")
		if got.Failure == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after Redis woke: %s", got.Failure)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSeederSurvivesIdleAndHalfOpenHandshakes opens 250 peer connections
// that send nothing or half a handshake while aria2c downloads: the client
// completes, and the seeder cuts every idle connection at the handshake
// timeout.
func TestSeederSurvivesIdleAndHalfOpenHandshakes(t *testing.T) {
	aria := testenv.LookPath(t, "aria2c")
	tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s")
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 4<<20+99)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()},
		"--piece-length", "256K", "--handshake-timeout", "3s", "--max-conns", "300")
	single := sp.status(t)["single.bin"]
	waitScrape(t, tp, single.InfoHash, func(c, _, _ int) bool { return c == 1 })

	// aria2c's port is outside the ephemeral range, which the flood's
	// dials draw from.
	ariaPort := testenv.FreePort(t)
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := range 250 {
		c, err := net.DialTimeout("tcp", sp.addr(), 2*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if i%2 == 0 {
			c.Write([]byte("\x13BitTorrent protocol\x00\x00")) // half a handshake
		}
		idle = append(idle, c)
	}
	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, ariaPort, single.Torrent))
	if err := ariaProc.Wait(120 * time.Second); err != nil {
		t.Fatalf("aria2c with 250 idle connections open: %v\n%s", err, ariaProc.Tail(3000))
	}
	checkFiles(t, "aria2c", ariaDir, map[string]string{"single.bin": sums["single.bin"]})

	// Every idle connection is closed by the seeder after the timeout.
	deadline := time.Now().Add(10 * time.Second)
	closed := 0
	for _, c := range idle {
		c.SetReadDeadline(deadline)
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			closed++
		}
	}
	if closed != len(idle) {
		t.Fatalf("%d of %d idle connections closed by the seeder", closed, len(idle))
	}
	m := scrapeMetrics(t, sp.adminPort)
	if n, ok := m[`bitorigin_seeder_pending_connections{stage="handshake"}`]; !ok || n != 0 {
		t.Fatalf("pending handshakes after the timeout: %v (reported: %v)", n, ok)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestSeederIsNotLockedByOneHostsIdleConnections is the hardening
// issue's case: one host opens 1,500 idle connections to a seeder of
// --max-conns 500, then aria2c, which does not retry a peer that dropped
// it until its next announce, starts. The tracker's default interval keeps
// the seeder from learning aria2c's address and dialling it: aria2c's own
// connection must get in. The flood comes from 127.0.0.2, which the
// default exemption of loopback would cover: only 127.0.0.1 is exempt here.
func TestSeederIsNotLockedByOneHostsIdleConnections(t *testing.T) {
	aria := testenv.LookPath(t, "aria2c")
	tp := startTracker(t, "", nil)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 4<<20+99)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()},
		"--piece-length", "256K", "--handshake-timeout", "5m", "--max-conns", "500",
		"--conn-limit-exempt", "127.0.0.1/32")
	single := sp.status(t)["single.bin"]
	waitScrape(t, tp, single.InfoHash, func(c, _, _ int) bool { return c == 1 })

	// aria2c's port is outside the ephemeral range, which the flood's
	// dials draw from.
	ariaPort := testenv.FreePort(t)
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 2 * time.Second}
	for i := range 1500 {
		c, err := d.Dial("tcp", sp.addr())
		if err != nil {
			t.Fatalf("dial %d from 127.0.0.2: %v", i, err)
		}
		idle = append(idle, c)
	}
	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, aria2Args(ariaDir, ariaPort, single.Torrent))
	if err := ariaProc.Wait(120 * time.Second); err != nil {
		t.Fatalf("aria2c after 1,500 idle connections from one host: %v\n%s", err, ariaProc.Tail(3000))
	}
	checkFiles(t, "aria2c", ariaDir, map[string]string{"single.bin": sums["single.bin"]})

	m := scrapeMetrics(t, sp.adminPort)
	if n := m[`bitorigin_seeder_connections_total{direction="outgoing"}`]; n != 0 {
		t.Fatalf("the seeder dialled %v peers: aria2c's own connection was to be tested", n)
	}
	// The flooding host keeps its 32 (--max-conns-per-ip), the rest were
	// evicted by its own newer connections.
	if n := m[`bitorigin_seeder_pending_connections{stage="handshake"}`]; n != 32 {
		t.Fatalf("%v connections in their handshake, want the flooding host's 32", n)
	}
	if n := m[`bitorigin_seeder_dropped_connections_total{reason="evicted"}`]; n != 1500-32 {
		t.Fatalf("%v handshakes evicted, want %d", n, 1500-32)
	}
}
