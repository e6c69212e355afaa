package trackerload

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/httpfront"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/tracker/udpfront"
)

// newTracker returns an in-memory tracker, closed when the test ends.
func newTracker(t *testing.T, cfg tracker.Config) *tracker.Tracker {
	t.Helper()
	store, err := memstore.New(memstore.Config{Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr, err := tracker.New(cfg, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// startHTTPTracker serves an in-memory tracker over HTTP on a loopback
// port and returns its announce URL.
func startHTTPTracker(t *testing.T, cfg tracker.Config) string {
	t.Helper()
	srv, err := httpfront.New(newTracker(t, cfg), httpfront.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String() + "/announce"
}

// startUDPTracker serves an in-memory tracker over UDP on a loopback port
// and returns its URL.
func startUDPTracker(t *testing.T, cfg tracker.Config) string {
	t.Helper()
	srv, err := udpfront.New(newTracker(t, cfg), udpfront.Config{Readers: 2})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return "udp://" + conn.LocalAddr().String()
}

// short is a small, quick run; tests change what they look at.
func short(target string) Config {
	return Config{
		Target:   target,
		Duration: time.Second,
		Warmup:   200 * time.Millisecond,
		Torrents: 50,
		Peers:    500,
		Timeout:  2 * time.Second,
	}
}

// mustRun runs cfg and fails the test unless the report adds up.
func mustRun(t *testing.T, cfg Config) *Report {
	t.Helper()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Errorf("report does not add up: %v", err)
	}
	return rep
}
