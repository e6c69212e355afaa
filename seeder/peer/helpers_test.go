package peer

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/pieces"
	"github.com/bitorigin/bitorigin/seeder/storage"
)

// maxRequestLimit is the largest block any client asks for.
const maxRequestLimit = 128 << 10

// testTorrent makes a complete single-file torrent of size bytes, as a
// connection sees it; its functions do nothing.
func testTorrent(t testing.TB, size int, pieceLength int64) (*Torrent, []byte) {
	t.Helper()
	root := t.TempDir()
	path := filepath.Join(root, "file.bin")
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	meta, err := metainfo.Create(context.Background(), path, metainfo.CreateOptions{PieceLength: pieceLength})
	if err != nil {
		t.Fatal(err)
	}
	info := &meta.Info
	n := uint32(info.NumPieces())
	loaded := bitfield.New(n)
	loaded.SetAll()
	served := pieces.NewSet(n)
	for i := range n {
		served.Set(i, true)
	}
	st := storage.New(info, storage.Config{Root: root})
	t.Cleanup(func() { st.Close() })
	return &Torrent{
		Name:       info.Name,
		Pieces:     n,
		PieceLen:   uint32(info.PieceLength),
		LastLen:    uint32(info.PieceSize(int(n) - 1)),
		Metadata:   meta.InfoBytes(),
		Loaded:     loaded,
		Served:     served,
		Storage:    st,
		Uploaded:   new(atomic.Int64),
		Invalidate: func(int64, int64, string) {},
		Register:   func(*Conn) (uint64, error) { return 1, nil },
		Started:    func(*Conn) {},
		Closed:     func(*Conn) {},
		Interest:   func(*Conn) {},
		Extensions: func(*Conn, uint16, uint8) {},
	}, data
}

// testConfig is the seeder's default configuration of connections.
func testConfig() *Config {
	return &Config{
		Client:           "test",
		ListenPort:       func() uint16 { return 6881 },
		MaxRequest:       16 << 10,
		ReqQ:             1000,
		MaxBadRequests:   100,
		HandshakeTimeout: 10 * time.Second,
		IdleTimeout:      3 * time.Minute,
		WriteTimeout:     time.Minute,
		KeepAlive:        90 * time.Second,
		Logger:           slog.New(slog.DiscardHandler),
	}
}

// testMetrics are the connections' counters, registered nowhere.
func testMetrics() *Metrics {
	m := &Metrics{
		Served:   prometheus.NewCounter(prometheus.CounterOpts{Name: "served"}),
		DiskRead: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "disk_read"}),
	}
	for r := range NumRejectReasons {
		m.Rejected[r] = prometheus.NewCounter(prometheus.CounterOpts{Name: "rejected_" + r.String()})
	}
	for i := range m.HashRequests {
		m.HashRequests[i] = prometheus.NewCounter(prometheus.CounterOpts{Name: "hash_requests"})
	}
	return m
}

// testConn is a connection past its handshake that writes to nc, for
// driving the writer by hand.
func testConn(cfg *Config, t *Torrent, nc net.Conn) *Conn {
	c := &Conn{cfg: cfg, t: t, nc: nc, wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.w = peerwire.NewWriter(nc)
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	return c
}

// discardConn is a net.Conn for benchmarks: deadlines are accepted and
// nothing is read or written through it.
type discardConn struct{ net.Conn }

func (discardConn) SetWriteDeadline(time.Time) error { return nil }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }
