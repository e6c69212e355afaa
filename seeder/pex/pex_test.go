package pex

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func addr(i int) netip.AddrPort { return netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", 7000+i)) }

func newExchange(t *testing.T, cfg Config) *Exchange {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestConfigIsValidated(t *testing.T) {
	if _, err := New(Config{Max: -1}); err == nil {
		t.Fatal("a negative max accepted")
	}
}

func TestPeersAreIntroducedToEachOtherButNotToThemselves(t *testing.T) {
	e := newExchange(t, Config{FirstDelay: time.Second})
	e.Add(1, addr(1))
	e.Add(2, netip.AddrPort{})
	e.Speaks(1, t0)
	e.Speaks(2, t0)
	if got := e.Due(t0.Add(999 * time.Millisecond)); len(got) != 0 {
		t.Fatalf("messages %v before the first delay", got)
	}
	// Peer 2's listening address is not known yet: it hears of peer 1,
	// peer 1 of nobody.
	got := e.Due(t0.Add(time.Second))
	if len(got) != 1 || got[0].To != 2 || !slices.Equal(got[0].Added, []netip.AddrPort{addr(1)}) {
		t.Fatalf("messages %v, want peer 1 introduced to peer 2 only", got)
	}
	e.SetAddr(2, addr(2))
	got = e.Due(t0.Add(2 * time.Second))
	if len(got) != 1 || got[0].To != 1 || !slices.Equal(got[0].Added, []netip.AddrPort{addr(2)}) {
		t.Fatalf("messages %v, want peer 2 introduced to peer 1 once its address is known", got)
	}
}

func TestAPeerThatLeftIsDroppedAtTheNextInterval(t *testing.T) {
	e := newExchange(t, Config{FirstDelay: time.Second, Interval: time.Minute})
	for i := uint64(1); i <= 3; i++ {
		e.Add(i, addr(int(i)))
		e.Speaks(i, t0)
	}
	e.Due(t0.Add(time.Second))
	e.Remove(3)
	if got := e.Due(t0.Add(30 * time.Second)); len(got) != 0 {
		t.Fatalf("messages %v within the interval", got)
	}
	got := e.Due(t0.Add(61 * time.Second))
	if len(got) != 2 {
		t.Fatalf("messages %v, want one to each peer left", got)
	}
	for _, m := range got {
		if len(m.Added) != 0 || !slices.Equal(m.Dropped, []netip.AddrPort{addr(3)}) {
			t.Fatalf("message %+v, want only peer 3 dropped", m)
		}
	}
	if got := e.Due(t0.Add(10 * time.Minute)); len(got) != 0 {
		t.Fatalf("messages %v with nothing new", got)
	}
}

func TestAMessageCarriesAtMostMaxPeersAndTheRestFollow(t *testing.T) {
	e := newExchange(t, Config{FirstDelay: time.Second, Interval: time.Minute, Max: 50})
	for i := uint64(0); i <= 120; i++ {
		e.Add(i, addr(int(i)))
	}
	e.Speaks(0, t0)
	told := map[netip.AddrPort]bool{}
	for k, at := range []time.Duration{time.Second, 61 * time.Second, 121 * time.Second} {
		got := e.Due(t0.Add(at))
		if len(got) != 1 || len(got[0].Added) > 50 {
			t.Fatalf("message %d: %v", k, got)
		}
		for _, a := range got[0].Added {
			if told[a] {
				t.Fatalf("%v told twice", a)
			}
			told[a] = true
		}
	}
	if len(told) != 120 {
		t.Fatalf("told of %d peers, want the 120 others", len(told))
	}
}

func TestPeersThatDoNotSpeakPexAreToldNothing(t *testing.T) {
	e := newExchange(t, Config{})
	e.Add(1, addr(1))
	e.Add(2, addr(2))
	e.Speaks(2, t0)
	for _, m := range e.Due(t0.Add(time.Hour)) {
		if m.To == 1 {
			t.Fatalf("message %+v to a peer without ut_pex", m)
		}
	}
}
