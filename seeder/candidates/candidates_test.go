package candidates

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Unix(1000, 0)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func newList(t *testing.T) *List {
	t.Helper()
	l, err := New(Config{Attempts: 3, Retry: 5 * time.Second, Max: 100, TTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func addrs(ds []Dial) []netip.AddrPort {
	var out []netip.AddrPort
	for _, d := range ds {
		out = append(out, d.Addr)
	}
	return out
}

// The old dialler reset the attempts of an address a tracker named again
// while it was being dialled, which made it look idle: a second dial
// started beside the first.
func TestATrackerNamingAnAddressAgainNeverStartsASecondDial(t *testing.T) {
	l := newList(t)
	a := ap("192.0.2.1:6881")
	l.Add([]netip.AddrPort{a}, t0)
	if got := l.Due(t0, 10); len(got) != 1 || got[0] != (Dial{a, 1}) {
		t.Fatalf("Due: %v, want one dial of %s", got, a)
	}
	for i := range 5 {
		now := t0.Add(time.Duration(i) * time.Minute)
		l.Add([]netip.AddrPort{a}, now)
		if got := l.Due(now.Add(time.Hour), 10); len(got) != 0 {
			t.Fatalf("while the first dial is under way: %v", got)
		}
	}
}

// ... and the dial's result still counts: a failure is retried after its
// back-off, and the address is dialled again, as the third attempt when
// a tracker named it meanwhile only once the dial was done.
func TestAFailedDialIsRetriedAfterItsBackoffThenDropped(t *testing.T) {
	l := newList(t)
	a := ap("192.0.2.1:6881")
	l.Add([]netip.AddrPort{a}, t0)
	now := t0
	for attempt := 1; attempt <= 3; attempt++ {
		got := l.Due(now, 10)
		if len(got) != 1 || got[0] != (Dial{a, attempt}) {
			t.Fatalf("attempt %d at %s: %v", attempt, now.Sub(t0), got)
		}
		l.Done(a, now)
		wait := 5 * time.Second * time.Duration(attempt)
		if attempt < 3 {
			if got := l.Due(now.Add(wait-time.Millisecond), 10); len(got) != 0 {
				t.Fatalf("dialled again before its back-off: %v", got)
			}
		}
		now = now.Add(wait)
	}
	if l.Len() != 0 {
		t.Fatalf("%d addresses kept after three failed dials, want none", l.Len())
	}
	// Named again: as many attempts again.
	l.Add([]netip.AddrPort{a}, now)
	if got := l.Due(now, 10); len(got) != 1 || got[0].Attempt != 1 {
		t.Fatalf("named again: %v, want a first attempt", got)
	}
}

func TestANamedAgainAddressGetsItsAttemptsBackButKeepsItsBackoff(t *testing.T) {
	l := newList(t)
	a := ap("192.0.2.1:6881")
	l.Add([]netip.AddrPort{a}, t0)
	l.Due(t0, 1)
	l.Done(a, t0)
	l.Due(t0.Add(5*time.Second), 1)
	l.Done(a, t0.Add(5*time.Second)) // two failed; next at +15 s
	l.Add([]netip.AddrPort{a}, t0.Add(6*time.Second))
	if got := l.Due(t0.Add(14*time.Second), 1); len(got) != 0 {
		t.Fatalf("named again during its back-off: dialled at once: %v", got)
	}
	if got := l.Due(t0.Add(15*time.Second), 1); len(got) != 1 || got[0].Attempt != 1 {
		t.Fatalf("after its back-off: %v, want a first attempt again", got)
	}
}

// The old dialler kept every address while at its connection limit.
func TestTheListIsBoundedWhileNothingIsDialled(t *testing.T) {
	l := newList(t)
	for i := range 100 {
		var batch []netip.AddrPort
		for j := range 200 {
			batch = append(batch, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(j), 1}), 6881))
		}
		now := t0.Add(time.Duration(i) * time.Minute)
		l.Add(batch, now)
		l.Due(now, 0) // at the connection limit
		if l.Len() > 100 {
			t.Fatalf("after %d announces: %d addresses kept, want at most 100", i+1, l.Len())
		}
	}
	// Stale ones expire, so fresh ones find room.
	fresh := ap("198.51.100.1:6881")
	now := t0.Add(200 * time.Minute)
	l.Add([]netip.AddrPort{fresh}, now)
	if got := l.Due(now, 200); len(got) != 1 || got[0].Addr != fresh {
		t.Fatalf("after the others expired: %v, want only %s", addrs(got), fresh)
	}
}

func TestAnAddressBeingDialledDoesNotExpire(t *testing.T) {
	l := newList(t)
	a := ap("192.0.2.1:6881")
	l.Add([]netip.AddrPort{a}, t0)
	l.Due(t0, 1)
	later := t0.Add(time.Hour)
	l.Due(later, 1)
	if l.InFlight() != 1 {
		t.Fatal("an address being dialled expired")
	}
	l.Done(a, later)
	if got := l.Due(later.Add(time.Minute), 1); len(got) != 0 || l.Len() != 0 {
		t.Fatalf("stale once its dial failed: %v, %d kept; want dropped", got, l.Len())
	}
}

func TestDueTakesAtMostNLongestDueFirstAndRemoveForgets(t *testing.T) {
	l := newList(t)
	var all []netip.AddrPort
	for i := range 5 {
		a := ap(fmt.Sprintf("192.0.2.%d:6881", i+1))
		all = append(all, a)
		l.Add([]netip.AddrPort{a}, t0.Add(time.Duration(i)*time.Second))
	}
	l.Remove(all[1])
	got := addrs(l.Due(t0.Add(time.Minute), 2))
	if len(got) != 2 || got[0] != all[0] || got[1] != all[2] {
		t.Fatalf("Due: %v, want %v and %v", got, all[0], all[2])
	}
	l.Done(all[0], t0) // unknown results are ignored; known ones count
	l.Remove(all[2])   // connected while dialled
	l.Done(all[2], t0)
	if l.Len() != 3 || l.InFlight() != 0 {
		t.Fatalf("%d kept, %d in flight; want 3 and 0", l.Len(), l.InFlight())
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := New(Config{Attempts: 1, Retry: time.Second, Max: 0, TTL: time.Minute}); err == nil {
		t.Fatal("accepted room for no address")
	}
}

func TestAddAfterDelaysTheFirstDialOnly(t *testing.T) {
	l, err := New(Config{Attempts: 2, Retry: time.Second, Max: 10, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	a, b := netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.2:1")
	l.Add([]netip.AddrPort{a}, t0)
	l.AddAfter([]netip.AddrPort{a, b}, t0, 5*time.Second)
	if got := l.Due(t0, 10); len(got) != 1 || got[0].Addr != a {
		t.Fatalf("due at once: %v, want only %v (known before)", got, a)
	}
	if got := l.Due(t0.Add(4*time.Second), 10); len(got) != 0 {
		t.Fatalf("due before the wait: %v", got)
	}
	l.Remove(b) // it dialled us meanwhile
	if got := l.Due(t0.Add(5*time.Second), 10); len(got) != 0 {
		t.Fatalf("a peer that connected is still dialled: %v", got)
	}
	l.AddAfter([]netip.AddrPort{b}, t0.Add(10*time.Second), 5*time.Second)
	if got := l.Due(t0.Add(15*time.Second), 10); len(got) != 1 || got[0].Addr != b {
		t.Fatalf("after the wait: %v, want %v", got, b)
	}
}
