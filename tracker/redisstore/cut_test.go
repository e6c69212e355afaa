package redisstore

import (
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/tracker"
)

func TestCutSkipsTheAnnouncerAndStopsAtN(t *testing.T) {
	entry := func(c byte) string { return strings.Repeat(string(c), 6) + strings.Repeat(string(c+1), 20) }
	self := entry('s')
	drawn := entry('a') + self + entry('c') + entry('e')
	var out tracker.SwarmAnswer
	if err := cut(&out, drawn, 2, 6, self, true); err != nil {
		t.Fatal(err)
	}
	if got, want := string(out.Peers), "aaaaaacccccc"; got != want {
		t.Fatalf("peers %q, want %q", got, want)
	}
	if got, want := string(out.PeerIDs), strings.Repeat("b", 20)+strings.Repeat("d", 20); got != want {
		t.Fatalf("peer IDs %q, want %q", got, want)
	}
	out.Reset()
	if err := cut(&out, drawn, 9, 6, self, false); err != nil {
		t.Fatal(err)
	}
	if len(out.Peers) != 3*6 || len(out.PeerIDs) != 0 {
		t.Fatalf("all but self without IDs: %d bytes of peers, %d of IDs", len(out.Peers), len(out.PeerIDs))
	}
}

func TestCutRefusesAReplyOfTheWrongShape(t *testing.T) {
	var out tracker.SwarmAnswer
	if err := cut(&out, strings.Repeat("x", 27), 1, 6, "", false); err == nil {
		t.Fatal("27 bytes cut into 26-byte IPv4 members without an error")
	}
	if err := cut(&out, strings.Repeat("x", 26), 1, 18, "", false); err == nil {
		t.Fatal("an IPv4 member read as IPv6 without an error")
	}
	if len(out.Peers) != 0 {
		t.Fatalf("a refused reply added %d bytes of peers", len(out.Peers))
	}
}
