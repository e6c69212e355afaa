package seeder

import (
	"bufio"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
)

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, cond)
}

// serveTest runs a Seeder of torrents on a loopback port until the test
// ends, and returns it and its address.
func serveTest(t *testing.T, cfg Config, torrents ...*content.Torrent) (*Seeder, string) {
	t.Helper()
	var logs testenv.LogBuffer
	if cfg.Logger == nil {
		cfg.Logger = logs.Logger()
	}
	s, err := New(cfg, torrents)
	if err != nil {
		t.Fatal(err)
	}
	return s, testenv.ServeLoopback(t, s.Serve, &logs)
}

// peerCount makes test peer IDs unique.
var peerCount atomic.Int64

// testPeer is a raw peer connection.
type testPeer struct {
	t  *testing.T
	nc net.Conn
	r  *peerwire.Reader
}

func connectPeer(t *testing.T, addr string, tor *content.Torrent, reserved peerwire.Reserved) *testPeer {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return handshakePeerWith(t, nc, tor, reserved)
}

// handshakePeer sends our handshake for tor on nc and reads the seeder's.
func handshakePeer(t *testing.T, nc net.Conn, tor *content.Torrent) *testPeer {
	t.Helper()
	return handshakePeerWith(t, nc, tor, fastReserved())
}

func handshakePeerWith(t *testing.T, nc net.Conn, tor *content.Torrent, reserved peerwire.Reserved) *testPeer {
	t.Helper()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	h := peerwire.Handshake{Reserved: reserved, InfoHash: tor.InfoHash(), PeerID: [20]byte{'-', 'T', 'T', '0', '0', '0', '1', '-'}}
	copy(h.PeerID[8:], fmt.Sprintf("%012d", peerCount.Add(1)))
	if _, err := nc.Write(h.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	got, err := peerwire.ReadHandshake(br)
	if err != nil || got.InfoHash != tor.InfoHash() {
		t.Fatalf("handshake: %+v %v", got, err)
	}
	return &testPeer{t: t, nc: nc, r: peerwire.NewReader(br, peerwire.ReaderConfig{Pieces: tor.NumPieces()})}
}

func (p *testPeer) send(ms ...peerwire.Message) {
	p.t.Helper()
	var b []byte
	for _, m := range ms {
		b = m.AppendTo(b)
	}
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

// waitFor reads until a message of type T arrives, failing on errors.
func waitFor[T peerwire.Message](p *testPeer) T {
	p.t.Helper()
	for {
		m, err := p.r.ReadMessage()
		if err != nil {
			p.t.Fatalf("waiting for %T: %v", *new(T), err)
		}
		if v, ok := m.(T); ok {
			return v
		}
	}
}
