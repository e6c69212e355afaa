package httpfront

import (
	"bufio"
	"bytes"
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
)

// bigBody is an answer larger than any loopback socket buffer, so that
// writing it must wait on a client that does not read.
var bigBody = bytes.Repeat([]byte("x"), 16<<20)

// rawServer serves a fasthttp handler through one acceptor on addr: "/big"
// answers bigBody, "/addr" the peer and local addresses, anything else the
// request URI. It counts the requests served on a rawConn.
type rawServer struct {
	addr string
	srv  *fasthttp.Server
	raw  atomic.Int64
}

func serveRaw(t *testing.T, addr string, idle time.Duration) *rawServer {
	t.Helper()
	rs := &rawServer{}
	rs.srv = &fasthttp.Server{
		ReadTimeout:  idle,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  idle,
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
		t.Skipf("no listener on %s: %v", addr, err)
	}
	rs.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- serveInline(rs.srv, ln, 1) }()
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
	return rs
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

// get sends a request for target on c and returns the answer's body.
func get(t *testing.T, c net.Conn, r *bufio.Reader, target string) string {
	t.Helper()
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	return readAnswer(t, r)
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
	rs := serveRaw(t, "127.0.0.1:0", 5*time.Second)
	c := rs.dial(t)
	if got := get(t, c, bufio.NewReader(c), "/a"); got != "/a" {
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
	rs := serveRaw(t, "127.0.0.1:0", 5*time.Second)
	slow := rs.dial(t)
	if _, err := io.WriteString(slow, "GET /first-half"); err != nil {
		t.Fatal(err)
	}
	other := rs.dial(t)
	if got := get(t, other, bufio.NewReader(other), "/other"); got != "/other" {
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
	rs := serveRaw(t, "127.0.0.1:0", 5*time.Second)
	lazy := rs.dial(t)
	if _, err := io.WriteString(lazy, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	other := rs.dial(t)
	if got := get(t, other, bufio.NewReader(other), "/other"); got != "/other" {
		t.Fatalf("answer %q, want /other", got)
	}
	if got := readAnswer(t, bufio.NewReader(lazy)); got != string(bigBody) {
		t.Fatalf("answer of %d bytes, want %d", len(got), len(bigBody))
	}
}

// A kept-alive connection goes on being served after its move, and the
// deadlines fasthttp set before the move still end it.
func TestAMovedConnectionKeepsServingAndKeepsItsDeadlines(t *testing.T) {
	rs := serveRaw(t, "127.0.0.1:0", time.Second)
	c := rs.dial(t)
	r := bufio.NewReader(c)
	for i := range 3 {
		target := fmt.Sprintf("/keep-alive-%d", i)
		if got := get(t, c, r, target); got != target {
			t.Fatalf("answer %q, want %s", got, target)
		}
	}
	// Idle now: the idle timeout closes it, long before the client's
	// own deadline.
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF", err)
	}
	// So does the read timeout a request that stops halfway.
	half := rs.dial(t)
	if _, err := io.WriteString(half, "GET /half"); err != nil {
		t.Fatal(err)
	}
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
			rs := serveRaw(t, tc.listen, 5*time.Second)
			_, port, _ := net.SplitHostPort(rs.addr)
			c, err := net.DialTimeout("tcp", net.JoinHostPort(tc.dial, port), 5*time.Second)
			if err != nil {
				t.Skipf("no %s: %v", tc.dial, err)
			}
			defer c.Close()
			if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			want := c.LocalAddr().String() + " " + c.RemoteAddr().String()
			if got := get(t, c, bufio.NewReader(c), "/addr"); got != want {
				t.Fatalf("handler saw %q, want %q", got, want)
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

// Every way a connection ends closes its descriptor exactly once: served
// and closed, moved and then closed by either side, cut by a timeout.
func TestRawConnsLeakNoDescriptors(t *testing.T) {
	rs := serveRaw(t, "127.0.0.1:0", time.Second)
	// A first connection, so that whatever the runtime opens once is
	// open before counting. The server closes its end before the client
	// reads EOF.
	warm := rs.dial(t)
	closeRequest(t, warm)
	warm.Close()
	before := openFDs(t)
	var conns []net.Conn
	for i := range 20 {
		c := rs.dial(t)
		conns = append(conns, c)
		switch i % 4 {
		case 0: // served and closed by the server
			closeRequest(t, c)
		case 1: // half a request, then the client goes
			io.WriteString(c, "GET /half")
		case 2: // kept alive, then the client goes
			get(t, c, bufio.NewReader(c), "/kept")
		case 3: // an unread answer, then the client goes
			io.WriteString(c, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
		}
	}
	for _, c := range conns {
		c.Close()
	}
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("open descriptors are back to %d", before), func() bool {
		return openFDs(t) == before
	})
}

// closeRequest sends c a request that closes it and reads to the end.
func closeRequest(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatal(err)
	}
}
