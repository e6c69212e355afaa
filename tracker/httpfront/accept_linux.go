package httpfront

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Go's netpoller has a cost for every connection it is given, even one that
// is accepted, answered and closed without ever waiting, as a client with a
// connection per announce is: epoll_ctl to register the descriptor and
// again to deregister it, TCP_NODELAY, getsockname, a finalizer, and a
// timer for each deadline fasthttp sets. So on Linux an acceptor accepts
// with accept4 itself and serves the descriptor with plain read and write
// calls (it is non-blocking). Only a read or write that would block moves
// the connection into the netpoller, and the acceptor resigns then, as with
// servedConn: slow clients, keep-alive and a store that waits never hold
// an acceptor. When no connection is queued the acceptor waits in the
// netpoller's Accept after all, and serves what it returns as a
// servedConn: under load about one connection in thirteen. Measured on 2
// cores with wrk and a connection per request (docs/benchmarks.md): a
// fifth less tracker CPU per announce.

// rawListener returns ln's descriptor if its connections can be accepted
// outside the netpoller.
func rawListener(ln net.Listener) syscall.RawConn {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return nil
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// accept accepts the next connection for acceptor a.
func (in *inline) accept(a *acceptor) (net.Conn, error) {
	if in.lnRaw == nil {
		return in.acceptServed(a)
	}
	var fd int
	var sa syscall.Sockaddr
	var err error
	// A listener's RawConn cannot wait (its Read says EINVAL), so when
	// no connection is queued the netpoller's Accept waits for the next
	// one, and it is served as a servedConn.
	if cerr := in.lnRaw.Control(func(lfd uintptr) {
		fd, sa, err = acceptNonBlocking(int(lfd))
	}); cerr != nil {
		return nil, cerr
	}
	if errors.Is(err, syscall.EAGAIN) {
		return in.acceptServed(a)
	}
	if err != nil {
		return nil, os.NewSyscallError("accept4", err)
	}
	c := &rawConn{a: a, fd: fd}
	if ta := tcpAddr(sa); ta != nil {
		c.remote = ta
	}
	return c, nil
}

func acceptNonBlocking(lfd int) (int, syscall.Sockaddr, error) {
	for {
		fd, sa, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if !errors.Is(err, syscall.EINTR) {
			return fd, sa, err
		}
	}
}

// rawConn is an accepted connection outside the netpoller until a read or
// write would block. Its acceptor's goroutine reads and writes it, but
// fasthttp's Shutdown may close it from another, so the descriptor is only
// used under mu: a closed descriptor's number is soon another connection's.
type rawConn struct {
	a      *acceptor
	remote net.Addr

	mu     sync.Mutex
	fd     int      // -1 once closed or moved
	pc     net.Conn // the netpoller's connection once moved, nil once closed
	local  net.Addr
	rd, wd time.Time // deadlines set before the move, applied by it
}

func (c *rawConn) resign() { c.a.resign() }

// Read reads what has arrived, or moves c into the netpoller, resigns and
// then waits.
func (c *rawConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.fd >= 0 {
		if len(p) == 0 {
			c.mu.Unlock()
			return 0, nil
		}
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(c.fd, p) })
		if !errors.Is(err, syscall.EAGAIN) {
			c.mu.Unlock()
			switch {
			case err != nil:
				return 0, os.NewSyscallError("read", err)
			case n == 0:
				return 0, io.EOF
			}
			return n, nil
		}
		if err := c.moveLocked(); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	pc := c.pc
	c.mu.Unlock()
	if pc == nil {
		return 0, net.ErrClosed
	}
	c.resign()
	return pc.Read(p)
}

// Write writes what the socket takes at once, or moves c into the
// netpoller, resigns and then waits to write the rest.
func (c *rawConn) Write(p []byte) (int, error) {
	n := 0
	c.mu.Lock()
	if c.fd >= 0 {
		if len(p) == 0 {
			c.mu.Unlock()
			return 0, nil
		}
		m, err := ignoringEINTR(func() (int, error) { return syscall.Write(c.fd, p) })
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			c.mu.Unlock()
			return 0, os.NewSyscallError("write", err)
		}
		n = max(m, 0)
		if n == len(p) {
			c.mu.Unlock()
			return n, nil
		}
		if err := c.moveLocked(); err != nil {
			c.mu.Unlock()
			return n, err
		}
	}
	pc := c.pc
	c.mu.Unlock()
	if pc == nil {
		return n, net.ErrClosed
	}
	c.resign()
	m, err := pc.Write(p[n:])
	return n + m, err
}

// moveLocked hands c's descriptor to the netpoller, with the deadlines
// fasthttp set meanwhile.
func (c *rawConn) moveLocked() error {
	f := os.NewFile(uintptr(c.fd), "tcp")
	c.fd = -1
	pc, err := net.FileConn(f)
	// FileConn serves a duplicate of the descriptor.
	f.Close()
	if err != nil {
		return fmt.Errorf("httpfront: moving a connection into the netpoller: %w", err)
	}
	if tc, ok := pc.(*net.TCPConn); ok {
		// FileConn turns on keep-alive probes, which Listen turns off
		// for the same reason.
		_ = tc.SetKeepAlive(false)
	}
	if err := errors.Join(pc.SetReadDeadline(c.rd), pc.SetWriteDeadline(c.wd)); err != nil {
		pc.Close()
		return fmt.Errorf("httpfront: deadlines of a moved connection: %w", err)
	}
	c.pc = pc
	return nil
}

// Close closes the descriptor, or the netpoller's connection once moved.
func (c *rawConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.fd >= 0:
		fd := c.fd
		c.fd = -1
		if err := syscall.Close(fd); err != nil {
			return os.NewSyscallError("close", err)
		}
		return nil
	case c.pc != nil:
		pc := c.pc
		c.pc = nil
		return pc.Close()
	}
	return net.ErrClosed
}

// RemoteAddr is the peer's address as accept4 reported it.
func (c *rawConn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr asks the kernel only when asked: fasthttp serves an announce
// without it.
func (c *rawConn) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.local != nil:
	case c.pc != nil:
		c.local = c.pc.LocalAddr()
	case c.fd >= 0:
		if sa, err := syscall.Getsockname(c.fd); err == nil {
			if ta := tcpAddr(sa); ta != nil {
				c.local = ta
			}
		}
	}
	return c.local
}

func (c *rawConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// SetReadDeadline only notes t until c moves into the netpoller: until
// then no read waits.
func (c *rawConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pc != nil {
		return c.pc.SetReadDeadline(t)
	}
	c.rd = t
	return nil
}

// SetWriteDeadline is SetReadDeadline's twin for writes.
func (c *rawConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pc != nil {
		return c.pc.SetWriteDeadline(t)
	}
	c.wd = t
	return nil
}

// tcpAddr is the TCP address of a socket address, or nil for another kind.
func tcpAddr(sa syscall.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
	case *syscall.SockaddrInet6:
		a := &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
		if sa.ZoneId != 0 {
			a.Zone = strconv.FormatUint(uint64(sa.ZoneId), 10)
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return nil
}
