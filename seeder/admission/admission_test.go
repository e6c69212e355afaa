package admission

import (
	"net/netip"
	"testing"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func newGate(t *testing.T, cfg Config) *Gate {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// admit accepts a connection from a and fails unless it is admitted
// without an eviction.
func admit(t *testing.T, g *Gate, a string) ID {
	t.Helper()
	v := g.Accept(addr(a), 0)
	if !v.Admit || v.Evict != 0 {
		t.Fatalf("connection from %s: %+v, want admitted without eviction", a, v)
	}
	return v.ID
}

// The case: one host holds every slot with idle connections; an
// honest client from elsewhere must get in at its first attempt.
func TestAFloodFromOneHostLeavesRoomForOthers(t *testing.T) {
	g := newGate(t, Config{MaxConns: 500, MaxPerSource: 32})
	evicted := 0
	for range 1500 {
		v := g.Accept(addr("203.0.113.7"), 0)
		if !v.Admit {
			t.Fatalf("flood connection refused: %+v (its own oldest handshake should make room)", v)
		}
		if v.Evict != 0 {
			evicted++
		}
	}
	if n := g.FromSource(addr("203.0.113.7")); n != 32 || evicted != 1500-32 {
		t.Fatalf("flooding host holds %d connections, %d evicted; want 32 and %d", n, evicted, 1500-32)
	}
	honest := admit(t, g, "198.51.100.1")
	if !g.Established(honest) {
		t.Fatal("honest connection forgotten")
	}
}

// Without a limit per source (an exempt proxy, say), a full seeder still
// takes a newcomer: the oldest handshake goes, never an established peer.
func TestWhenFullTheOldestHandshakeMakesRoom(t *testing.T) {
	g := newGate(t, Config{MaxConns: 3})
	peer := admit(t, g, "192.0.2.1")
	g.Established(peer)
	idle1 := admit(t, g, "192.0.2.2")
	idle2 := admit(t, g, "192.0.2.3")
	v := g.Accept(addr("192.0.2.4"), 0)
	if !v.Admit || v.Evict != idle1 {
		t.Fatalf("newcomer at the limit: %+v, want admitted evicting %d (the oldest handshake)", v, idle1)
	}
	if g.Established(idle1) {
		t.Fatal("an evicted connection finished its handshake: the caller would keep it")
	}
	g.Close(idle1) // its goroutine ends: ignored
	if g.Len() != 3 || g.Handshakes() != 2 {
		t.Fatalf("%d connections, %d handshakes; want 3 and 2", g.Len(), g.Handshakes())
	}
	g.Established(idle2)
	g.Established(v.ID)
	if v := g.Accept(addr("192.0.2.5"), 0); v.Admit || v.Evict != 0 {
		t.Fatalf("every connection established: %+v, want refused", v)
	}
}

func TestLimitPerSource(t *testing.T) {
	cfg := Config{MaxConns: 100, MaxPerSource: 2,
		Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.1.0.0/16")}}
	t.Run("a source at its limit replaces its own oldest handshake", func(t *testing.T) {
		g := newGate(t, cfg)
		other := admit(t, g, "192.0.2.9") // older than the source's, never its victim
		first := admit(t, g, "192.0.2.1")
		admit(t, g, "192.0.2.1")
		v := g.Accept(addr("192.0.2.1"), 0)
		if !v.Admit || v.Evict != first {
			t.Fatalf("%+v, want admitted evicting %d", v, first)
		}
		if !g.Established(other) {
			t.Fatal("another source's handshake was evicted")
		}
	})
	t.Run("established connections are never replaced", func(t *testing.T) {
		g := newGate(t, cfg)
		g.Established(admit(t, g, "192.0.2.1"))
		g.Established(admit(t, g, "192.0.2.1"))
		if v := g.Accept(addr("192.0.2.1"), 0); v.Admit {
			t.Fatalf("%+v, want refused", v)
		}
		admit(t, g, "192.0.2.2")
	})
	t.Run("exempt sources are limited by the total only", func(t *testing.T) {
		g := newGate(t, cfg)
		for range 50 {
			admit(t, g, "127.0.0.1")
			admit(t, g, "10.1.2.3")
		}
		if v := g.Accept(addr("10.1.2.3"), 0); !v.Admit || v.Evict == 0 {
			t.Fatalf("at the total: %+v, want admitted after an eviction", v)
		}
	})
	t.Run("an IPv6 /64 is one source; an IPv4-mapped address is its IPv4 one", func(t *testing.T) {
		g := newGate(t, cfg)
		admit(t, g, "2001:db8:1:2::1")
		admit(t, g, "2001:db8:1:2:ffff::9")
		if v := g.Accept(addr("2001:db8:1:2::77"), 0); v.Evict == 0 {
			t.Fatalf("third from one /64: %+v, want an eviction", v)
		}
		admit(t, g, "2001:db8:1:3::1")
		admit(t, g, "192.0.2.1")
		admit(t, g, "::ffff:192.0.2.1")
		if v := g.Accept(addr("192.0.2.1"), 0); v.Evict == 0 {
			t.Fatalf("third from 192.0.2.1, once mapped: %+v, want an eviction", v)
		}
	})
	t.Run("closing frees the source", func(t *testing.T) {
		g := newGate(t, cfg)
		a, b := admit(t, g, "192.0.2.1"), admit(t, g, "192.0.2.1")
		g.Established(a)
		g.Established(b)
		g.Close(a)
		admit(t, g, "192.0.2.1")
		g.Close(b)
		if n := g.FromSource(addr("192.0.2.1")); n != 1 {
			t.Fatalf("%d connections from the source, want 1", n)
		}
	})
}

// Connections the caller opened count against the total; a handshake is
// evicted only when that brings the total under the limit.
func TestOthersCountAgainstTheTotal(t *testing.T) {
	g := newGate(t, Config{MaxConns: 4})
	admit(t, g, "192.0.2.1")
	admit(t, g, "192.0.2.2")
	if v := g.Accept(addr("192.0.2.3"), 2); !v.Admit || v.Evict == 0 {
		t.Fatalf("two dials, two handshakes, limit 4: %+v, want admitted after an eviction", v)
	}
	if v := g.Accept(addr("192.0.2.4"), 5); v.Admit {
		t.Fatalf("dials alone over the limit: %+v, want refused", v)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{{}, {MaxConns: 1, MaxPerSource: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted it", cfg)
		}
	}
}
