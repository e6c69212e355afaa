package httpfront

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Most BitTorrent clients open a connection for each announce, so the
// tracker's HTTP cost is mostly what happens per connection. fasthttp's own
// Serve accepts in one goroutine and hands every connection to a worker
// goroutine; each hand-off wakes another thread, and on a small machine that
// wake-up cost more CPU than the announce. Here the goroutine that accepts a
// connection also serves it (inline), so a client with a connection per
// announce costs no hand-off at all. But an acceptor must never wait on its
// client: a kept-alive connection between requests, a request that comes
// in pieces (slowloris) or an answer the client does not read would hold it,
// and enough such clients would stop the tracker accepting anyone. So the
// first read or write of its connection that would block makes the acceptor
// resign: it starts a new acceptor and goes on serving that one connection
// as a plain worker. Measured on 2 cores with wrk and a connection per
// request (docs/benchmarks.md): 15-25% more announces per second and a
// quarter less CPU per announce than fasthttp's Serve. On Linux a
// connection also stays out of Go's netpoller until then (rawConn in
// accept_linux.go): another fifth less CPU per announce.

// inline serves one listener's connections with acceptors that serve what
// they accept.
type inline struct {
	srv *fasthttp.Server
	ln  net.Listener
	// shut is what fasthttp's Serve waits on, so that its Shutdown closes
	// ln and waits for every connection the acceptors serve (ServeConn
	// counts them as open); an acceptor that finds ln closed closes shut,
	// so that Serve returns however the listener ended.
	shut *shutListener
	// lnRaw is ln's descriptor where connections can be accepted
	// outside the netpoller (see accept_linux.go), else nil.
	lnRaw syscall.RawConn
	// err is the first accept error that was not a closed listener, set
	// before shut closes.
	err atomic.Pointer[error]
}

// acceptor is one accepting goroutine's state.
type acceptor struct {
	in       *inline
	resigned bool
}

// resign hands accepting to a new goroutine before the acceptor's
// connection waits on its client.
func (a *acceptor) resign() {
	if !a.resigned {
		a.resigned = true
		a.in.start()
	}
}

// servedConn is a connection of the netpoller's served by its acceptor:
// its reads and writes never wait while the acceptor has not resigned.
type servedConn struct {
	net.Conn
	raw syscall.RawConn // nil when the connection has no descriptor
	a   *acceptor
}

// resigner is a connection whose acceptor can hand accepting on before
// the handler waits (on the store, say).
type resigner interface{ resign() }

func (c *servedConn) resign() { c.a.resign() }

// Read reads what has arrived, or resigns and then waits.
func (c *servedConn) Read(p []byte) (int, error) {
	if c.a.resigned || c.raw == nil || len(p) == 0 {
		return c.Conn.Read(p)
	}
	var n int
	var err error
	if rerr := c.raw.Read(func(fd uintptr) bool {
		n, err = ignoringEINTR(func() (int, error) { return fdRead(fd, p) })
		return true
	}); rerr != nil {
		return 0, rerr
	}
	switch {
	case errors.Is(err, syscall.EAGAIN):
		c.resign()
		return c.Conn.Read(p)
	case err != nil:
		return 0, os.NewSyscallError("read", err)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes what the socket takes at once, or resigns and then waits
// for the rest.
func (c *servedConn) Write(p []byte) (int, error) {
	if c.a.resigned || c.raw == nil || len(p) == 0 {
		return c.Conn.Write(p)
	}
	var n int
	var err error
	if werr := c.raw.Write(func(fd uintptr) bool {
		n, err = ignoringEINTR(func() (int, error) { return fdWrite(fd, p) })
		return true
	}); werr != nil {
		return 0, werr
	}
	if errors.Is(err, syscall.EAGAIN) {
		n, err = 0, nil
	}
	if err != nil {
		return 0, os.NewSyscallError("write", err)
	}
	if n < len(p) {
		c.resign()
		m, err := c.Conn.Write(p[n:])
		return n + m, err
	}
	return n, nil
}

func ignoringEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if !errors.Is(err, syscall.EINTR) {
			return n, err
		}
	}
}

// serveInline serves ln with n acceptors until ln is closed or fasthttp's
// Shutdown runs.
func serveInline(srv *fasthttp.Server, ln net.Listener, n int) error {
	in := &inline{srv: srv, ln: ln, shut: &shutListener{Listener: ln, done: make(chan struct{})}}
	in.lnRaw = rawListener(ln)
	// The acceptors start at Serve's first Accept, once Serve has
	// registered shut: a Shutdown that found nothing registered would
	// return at once and leave Serve and the acceptors running for good,
	// and acceptors started before Serve could answer requests in that
	// window (a test that shut down right after its answer hung so).
	in.shut.start = func() {
		for range max(n, 1) {
			in.start()
		}
	}
	// Serve returns once shut is closed, as fasthttp's own did once its
	// listener was: connections still being served run on (Shutdown
	// waits for them).
	err := srv.Serve(in.shut)
	if e := in.err.Load(); e != nil {
		return *e
	}
	return err
}

func (in *inline) start() { go in.loop() }

func (in *inline) loop() {
	a := &acceptor{in: in}
	backoff := 5 * time.Millisecond
	for {
		c, err := in.accept(a)
		if err != nil {
			if temporary(err) {
				// Out of file descriptors, say: wait, as net/http
				// does, rather than spin or give up serving.
				select {
				case <-in.shut.done:
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, time.Second)
				continue
			}
			if !closed(err) {
				in.err.CompareAndSwap(nil, &err)
			}
			in.shut.Close()
			return
		}
		backoff = 5 * time.Millisecond
		_ = in.srv.ServeConn(c)
		if a.resigned {
			return
		}
	}
}

// acceptServed accepts a connection of the netpoller's and wraps it for
// acceptor a.
func (in *inline) acceptServed(a *acceptor) (net.Conn, error) {
	c, err := in.ln.Accept()
	if err != nil {
		return nil, err
	}
	sc := &servedConn{Conn: c, a: a}
	if sysc, ok := c.(syscall.Conn); ok {
		sc.raw, _ = sysc.SyscallConn()
	} else {
		// No descriptor to try without waiting: resign at once.
		sc.resign()
	}
	return sc, nil
}

// temporary reports whether an accept error passes: a timeout, a
// connection aborted before it was accepted, or a lack of descriptors or
// memory that closing connections will end.
func temporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.ECONNABORTED, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// closed reports whether an accept error means the listener was closed
// (fasthttp's in-memory listener says so only in words).
func closed(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "use of closed network connection")
}

// shutListener is the listener fasthttp's own Serve is given: it yields no
// connection, and closing it closes the real one. Its first Accept runs
// start (see serveInline).
type shutListener struct {
	net.Listener
	done    chan struct{}
	once    sync.Once
	start   func()
	started sync.Once
}

func (l *shutListener) Accept() (net.Conn, error) {
	if l.start != nil {
		l.started.Do(l.start)
	}
	<-l.done
	return nil, io.EOF
}

func (l *shutListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.Listener.Close()
		if err != nil && closed(err) {
			err = nil
		}
	})
	return err
}
