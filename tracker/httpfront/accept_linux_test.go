package httpfront

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/valyala/fasthttp"
	"golang.org/x/sys/unix"
)

// bigBody is an answer larger than any loopback socket buffer, so that
// writing it must wait on a client that does not read. Its bytes count up
// in a cycle of a prime length, so that a part sent twice or skipped shows.
var bigBody = func() []byte {
	b := make([]byte, 16<<20)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}()

// rawServer serves a fasthttp handler through one acceptor on addr: "/big"
// answers bigBody, "/addr" the peer and local addresses, anything else the
// request URI. It counts the requests served on a rawConn.
type rawServer struct {
	addr string
	ln   net.Listener
	srv  *fasthttp.Server
	raw  atomic.Int64
}

// listenRaw opens rs's listener; start serves it. Connections dialled in
// between wait in the accept queue, so that the acceptor finds them there
// and takes them without the netpoller (it waits for an empty queue with
// the netpoller's Accept).
func listenRaw(t *testing.T, addr string, timeout time.Duration) *rawServer {
	t.Helper()
	rs := &rawServer{}
	rs.srv = &fasthttp.Server{
		ReadTimeout:  timeout,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  timeout,
		Handler: func(ctx *fasthttp.RequestCtx) {
			if _, ok := ctx.Conn().(*rawConn); ok {
				rs.raw.Add(1)
			}
			switch string(ctx.Path()) {
			case "/big":
				ctx.SetBody(bigBody)
			case "/addr":
				fmt.Fprintf(ctx, "%s %s", ctx.RemoteAddr(), ctx.LocalAddr())
			default:
				ctx.SetBody(ctx.RequestURI())
			}
		},
	}
	ln, err := Listen(context.Background(), addr)
	if err != nil {
		testenv.NoLoopback(t, addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	rs.ln = ln
	rs.addr = ln.Addr().String()
	return rs
}

// start waits until queued connections wait in the accept queue (each
// only once its first bytes came: TCP_DEFER_ACCEPT), then serves them and
// whatever comes after.
func (rs *rawServer) start(t *testing.T, queued int) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("%d connections wait to be accepted", queued), func() bool {
		return acceptQueue(t, rs.ln) == queued
	})
	done := make(chan error, 1)
	go func() { done <- serveInline(rs.srv, rs.ln, 1) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rs.srv.ShutdownWithContext(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// acceptQueue is how many connections wait on ln to be accepted (Linux
// reports it as a listener's tcpi_unacked).
func acceptQueue(t *testing.T, ln net.Listener) int {
	t.Helper()
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var ierr error
	if err := raw.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatal(ierr)
	}
	return int(info.Unacked)
}

// dial connects to rs with a deadline that bounds the test.
func (rs *rawServer) dial(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", rs.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// send sends a keep-alive request for target on c.
func send(t *testing.T, c net.Conn, target string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
}

func readAnswer(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("answer's body: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return string(body)
}

// The point of rawConn: a connection that never waits is served without
// the netpoller.
func TestAcceptedConnectionsAreServedOutsideTheNetpoller(t *testing.T) {
	rs := listenRaw(t, "127.0.0.1:0", 5*time.Second)
	c := rs.dial(t)
	send(t, c, "/a")
	rs.start(t, 1)
	if got := readAnswer(t, bufio.NewReader(c)); got != "/a" {
		t.Fatalf("answer %q, want /a", got)
	}
	if rs.raw.Load() != 1 {
		t.Fatal("the request was not served on a rawConn")
	}
}

// A request in pieces moves its connection into the netpoller: the
// acceptor serves others meanwhile, and the request is answered whole once
// the rest comes.
func TestARequestInPiecesIsAnsweredWithoutHoldingTheAcceptor(t *testing.T) {
	rs := listenRaw(t, "127.0.0.1:0", 5*time.Second)
	slow := rs.dial(t)
	if _, err := io.WriteString(slow, "GET /first-half"); err != nil {
		t.Fatal(err)
	}
	other := rs.dial(t)
	send(t, other, "/other")
	rs.start(t, 2)
	// One acceptor, and slow's was accepted first.
	if got := readAnswer(t, bufio.NewReader(other)); got != "/other" {
		t.Fatalf("answer %q, want /other", got)
	}
	if _, err := io.WriteString(slow, "-second-half HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := readAnswer(t, bufio.NewReader(slow)); got != "/first-half-second-half" {
		t.Fatalf("answer %q, want /first-half-second-half", got)
	}
	if rs.raw.Load() != 2 {
		t.Fatalf("%d requests served on a rawConn, want 2", rs.raw.Load())
	}
}

// An answer the client does not read moves its connection into the
// netpoller after the part the socket took; the rest follows once the
// client reads.
func TestAnAnswerTheClientDoesNotReadDoesNotHoldTheAcceptor(t *testing.T) {
	rs := listenRaw(t, "127.0.0.1:0", 5*time.Second)
	lazy := rs.dial(t)
	// And a second request, whose answer shows that the big one ended
	// where it should.
	send(t, lazy, "/big")
	send(t, lazy, "/after")
	other := rs.dial(t)
	send(t, other, "/other")
	rs.start(t, 2)
	if got := readAnswer(t, bufio.NewReader(other)); got != "/other" {
		t.Fatalf("answer %q, want /other", got)
	}
	r := bufio.NewReader(lazy)
	if got := readAnswer(t, r); got != string(bigBody) {
		t.Fatalf("answer of %d bytes, want %d", len(got), len(bigBody))
	}
	if got := readAnswer(t, r); got != "/after" {
		t.Fatalf("answer after the big one %.40q, want /after", got)
	}
	if rs.raw.Load() != 3 {
		t.Fatalf("%d requests served on a rawConn, want 3", rs.raw.Load())
	}
}

// A kept-alive connection goes on being served after its move, and the
// deadlines fasthttp set before the move still end it.
func TestAMovedConnectionKeepsServingAndKeepsItsDeadlines(t *testing.T) {
	rs := listenRaw(t, "127.0.0.1:0", time.Second)
	c := rs.dial(t)
	send(t, c, "/keep-alive-0")
	half := rs.dial(t)
	if _, err := io.WriteString(half, "GET /half"); err != nil {
		t.Fatal(err)
	}
	rs.start(t, 2)
	r := bufio.NewReader(c)
	for i := range 3 {
		target := fmt.Sprintf("/keep-alive-%d", i)
		if i > 0 {
			send(t, c, target)
		}
		if got := readAnswer(t, r); got != target {
			t.Fatalf("answer %q, want %s", got, target)
		}
	}
	if rs.raw.Load() != 3 {
		t.Fatalf("%d requests served on a rawConn, want 3", rs.raw.Load())
	}
	// Idle now: the idle timeout closes it, long before the client's
	// own deadline.
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF", err)
	}
	// And the read timeout closes a request that stopped halfway.
	if _, err := io.Copy(io.Discard, half); err != nil {
		t.Fatalf("half a request: %v, want EOF", err)
	}
}

// The handler sees the peer's address as the netpoller would report it,
// IPv6 and IPv4-mapped included, and the local one.
func TestARawConnReportsItsAddresses(t *testing.T) {
	for _, tc := range []struct{ listen, dial string }{
		{"127.0.0.1:0", "127.0.0.1"},
		{"[::1]:0", "::1"},
		{":0", "127.0.0.1"}, // dual-stack: the peer is IPv4-mapped
		{":0", "::1"},
	} {
		t.Run(tc.listen+"-"+tc.dial, func(t *testing.T) {
			rs := listenRaw(t, tc.listen, 5*time.Second)
			_, port, _ := net.SplitHostPort(rs.addr)
			c, err := net.DialTimeout("tcp", net.JoinHostPort(tc.dial, port), 5*time.Second)
			if err != nil {
				testenv.NoLoopback(t, tc.dial, err)
			}
			defer c.Close()
			if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			send(t, c, "/addr")
			rs.start(t, 1)
			want := c.LocalAddr().String() + " " + c.RemoteAddr().String()
			if got := readAnswer(t, bufio.NewReader(c)); got != want {
				t.Fatalf("handler saw %q, want %q", got, want)
			}
			if rs.raw.Load() != 1 {
				t.Fatal("the request was not served on a rawConn")
			}
		})
	}
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// Every way a connection ends closes its descriptor, once: served and
// closed by the server, moved and then closed by the client.
func TestRawConnsLeakNoDescriptors(t *testing.T) {
	rs := listenRaw(t, "127.0.0.1:0", 5*time.Second)
	before := openFDs(t)
	var conns []net.Conn
	for i := range 20 {
		c := rs.dial(t)
		conns = append(conns, c)
		var err error
		switch i % 4 {
		case 0: // served and closed by the server
			_, err = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
		case 1: // half a request, then the client goes
			_, err = io.WriteString(c, "GET /half")
		case 2: // kept alive, then the client goes
			send(t, c, "/kept")
		case 3: // an unread answer, then the client goes
			send(t, c, "/big")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rs.start(t, len(conns))
	for i, c := range conns {
		switch i % 4 {
		case 0:
			if _, err := io.Copy(io.Discard, c); err != nil {
				t.Fatal(err)
			}
		case 2:
			readAnswer(t, bufio.NewReader(c))
		}
	}
	for _, c := range conns {
		c.Close()
	}
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("open descriptors are back to %d", before), func() bool {
		return openFDs(t) == before
	})
	if n := rs.raw.Load(); n != 15 {
		t.Fatalf("%d requests served on a rawConn, want 15", n)
	}
}
