package seeder

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// dialFrom opens a TCP connection to addr from the local address from
// (any of 127.0.0.0/8 works on loopback), closed when the test ends.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// closedBySeeder reports whether the seeder closed nc within d.
func closedBySeeder(nc net.Conn, d time.Duration) bool {
	nc.SetReadDeadline(time.Now().Add(d))
	_, err := nc.Read(make([]byte, 1))
	return err == io.EOF
}

// registered is the number of connections past their handshake.
func registered(s *Seeder) int {
	return s.slots.len()
}

// The issue: a full seeder closed an honest client's first connection, and
// aria2c does not retry a peer that dropped it until its next announce.
// Now the oldest idle handshake makes room, and the honest peer is served.
func TestNewcomerTakesTheOldestHandshakesPlaceWhenFull(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	_, m := newMetricsForTest(t)
	s, addr := serveTest(t, Config{MaxConns: 3, HandshakeTimeout: time.Minute, Metrics: m}, tor)
	var idle []net.Conn
	for range 3 {
		idle = append(idle, dialFrom(t, "127.0.0.1", addr))
		n := len(idle)
		waitUntil(t, "the seeder to accept it", func() bool { return handshakes(s) == n })
	}
	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.HaveAll](p)
	if !closedBySeeder(idle[0], 5*time.Second) {
		t.Fatal("the oldest idle handshake is still open")
	}
	for _, nc := range idle[1:] {
		if closedBySeeder(nc, 100*time.Millisecond) {
			t.Fatal("a younger idle handshake was closed")
		}
	}
	// Every slot past its handshake: the next newcomer is refused.
	for range 2 {
		q := connectPeer(t, addr, tor, fastReserved())
		waitFor[*peerwire.HaveAll](q)
	}
	waitUntil(t, "three peers registered", func() bool { return registered(s) == 3 })
	nc := dialFrom(t, "127.0.0.1", addr)
	if !closedBySeeder(nc, 5*time.Second) {
		t.Fatal("a newcomer to a seeder full of established peers was not refused")
	}
	if ev, ref := testutil.ToFloat64(m.dropped[0]), testutil.ToFloat64(m.dropped[1]); ev != 3 || ref != 1 {
		t.Fatalf("dropped connections: %v evicted, %v refused; want 3 and 1", ev, ref)
	}
}

// One host (127.0.0.2 here, with loopback not exempt) opening many idle
// connections holds at most MaxConnsPerIP of them; others, and an honest
// client on that same host, still get in.
func TestOneHostCannotTakeEverySlot(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, addr := serveTest(t, Config{MaxConns: 20, MaxConnsPerIP: 4, ConnLimitExempt: []netip.Prefix{},
		HandshakeTimeout: time.Minute}, tor)
	flooder := netip.MustParseAddr("127.0.0.2")
	var idle []net.Conn
	for range 50 {
		idle = append(idle, dialFrom(t, "127.0.0.2", addr))
	}
	closed := 0
	for _, nc := range idle {
		if closedBySeeder(nc, 5*time.Second) {
			closed++
		}
		if closed == len(idle)-4 {
			break
		}
	}
	if closed != len(idle)-4 {
		t.Fatalf("%d of %d idle connections from one host closed, want all but 4", closed, len(idle))
	}
	s.mu.Lock()
	n := s.gate.FromSource(flooder)
	s.mu.Unlock()
	if n != 4 {
		t.Fatalf("the flooding host holds %d connections, want 4", n)
	}
	// Another host, and the flooding host's own honest client.
	for _, from := range []string{"127.0.0.1", "127.0.0.2"} {
		nc := dialFrom(t, from, addr)
		p := handshakePeer(t, nc, tor)
		waitFor[*peerwire.HaveAll](p)
	}
	waitUntil(t, "both honest peers registered", func() bool { return registered(s) == 2 })
}
