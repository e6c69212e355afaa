package seeder

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
)

// writeData writes size pseudo-random bytes to path.
func writeData(t testing.TB, path string, size int, seed uint64) []byte {
	t.Helper()
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// testTorrent makes a complete single-file torrent of size bytes.
func testTorrent(t testing.TB, size int, pieceLength int64) (*Torrent, []byte) {
	t.Helper()
	root := t.TempDir()
	data := writeData(t, filepath.Join(root, "file.bin"), size, 1)
	meta, err := metainfo.Create(context.Background(), filepath.Join(root, "file.bin"), metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	return NewTorrent(meta, "", root, newFullBitfield(meta), 0), data
}

// serveTest runs a Seeder of torrents on a loopback port until the test
// ends, and returns it and its address.
func serveTest(t *testing.T, cfg Config, torrents ...*Torrent) (*Seeder, string) {
	t.Helper()
	var logs testenv.LogBuffer
	if cfg.Logger == nil {
		cfg.Logger = logs.Logger()
	}
	s, err := New(cfg, torrents)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("seeder log:\n%s", logs.String())
		}
	})
	return s, ln.Addr().String()
}

// peerCount makes test peer IDs unique.
var peerCount atomic.Int64

// testPeer is a raw peer connection.
type testPeer struct {
	t  *testing.T
	nc net.Conn
	r  *peerwire.Reader
}

func connectPeer(t *testing.T, addr string, tor *Torrent, reserved peerwire.Reserved) *testPeer {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return handshakePeerWith(t, nc, tor, reserved)
}

// handshakePeer sends our handshake for tor on nc and reads the seeder's.
func handshakePeer(t *testing.T, nc net.Conn, tor *Torrent) *testPeer {
	t.Helper()
	return handshakePeerWith(t, nc, tor, fastReserved())
}

func handshakePeerWith(t *testing.T, nc net.Conn, tor *Torrent, reserved peerwire.Reserved) *testPeer {
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
	return &testPeer{t: t, nc: nc, r: peerwire.NewReader(br, peerwire.ReaderConfig{Pieces: tor.numPieces})}
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
