package peer

import (
	"bytes"
	"testing"

	"github.com/bitorigin/bitorigin/peerwire"
)

// sendIntro runs on a new connection's goroutine while others hold their
// locks and then take the connection's (SendHaves after a recheck, the
// choker): it must ask nothing of the torrent's swarm, least of all while
// holding the connection's lock, or both could wait forever.
func TestIntroAsksNothingOfTheSwarm(t *testing.T) {
	tor, _ := testTorrent(t, 64<<10, 32<<10)
	fail := func(*Conn) { t.Error("the introduction called the swarm") }
	tor.Register = func(*Conn) (uint64, error) { fail(nil); return 0, nil }
	tor.Started, tor.Closed, tor.Interest = fail, fail, fail
	tor.Extensions = func(*Conn, uint16, uint8) { fail(nil) }
	c := testConn(testConfig(), tor, discardConn{})
	c.extended, c.fast = true, true
	c.sendIntro()
	r := peerwire.NewReader(bytes.NewReader(c.out), peerwire.ReaderConfig{Pieces: tor.Pieces})
	if m, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*peerwire.Extended); !ok {
		t.Fatalf("first message %T, want the extension handshake", m)
	}
	if m, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*peerwire.HaveAll); !ok {
		t.Fatalf("second message %T, want have all", m)
	}
}
