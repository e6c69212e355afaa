package httpfront

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

// serveTCP serves a tracker on a loopback TCP listener with cfg and
// returns its address, the server and the channel Serve's result lands on.
func serveTCP(t *testing.T, cfg Config) (string, *Server, chan error) {
	t.Helper()
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr, err := tracker.New(tracker.Config{Interval: 1800 * time.Second, MinInterval: 900 * time.Second, Jitter: -1}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String(), srv, done
}

const keepAliveAnnounce = "GET /announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1&left=0 HTTP/1.1\r\nHost: t\r\n\r\n"

// announceOn sends one keep-alive announce on c and reads its answer.
func announceOn(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, keepAliveAnnounce); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// An acceptor serves what it accepts; one whose client keeps the
// connection open must hand accepting to another, or a single kept-alive
// client would stop the tracker accepting anyone else.
func TestAKeptAliveConnectionDoesNotStopAccepting(t *testing.T) {
	addr, _, _ := serveTCP(t, Config{Acceptors: 1})
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		r := bufio.NewReader(c)
		announceOn(t, c, r)
		// The connection stays open and idle; the next client must
		// still be answered.
	}
	// And every kept-alive connection still serves its client.
	for _, c := range conns {
		announceOn(t, c, bufio.NewReader(c))
	}
}

// Shutdown closes idle kept-alive connections, waits for the rest and
// makes Serve return.
func TestShutdownEndsIdleConnectionsAndServe(t *testing.T) {
	addr, srv, done := serveTCP(t, Config{Acceptors: 2})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	announceOn(t, c, r)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after Shutdown", err)
		}
		done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection after Shutdown: read %v, want EOF", err)
	}
	if c2, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c2.Close()
		t.Fatal("still accepting after Shutdown")
	}
}

// Closing the listener, without Shutdown, also ends Serve.
func TestServeReturnsWhenItsListenerCloses(t *testing.T) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tr, err := tracker.New(tracker.Config{}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(tr, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	ln.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v for a closed listener", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its listener closed")
	}
}

// A client that sends half a request and then nothing (slowloris) must not
// hold the acceptor that took its connection.
func TestHalfARequestDoesNotStopAccepting(t *testing.T) {
	addr, _, _ := serveTCP(t, Config{Acceptors: 1})
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /announce?info_hash="); err != nil {
			t.Fatal(err)
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	announceOn(t, c, bufio.NewReader(c))
}
