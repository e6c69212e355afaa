//go:build !linux

package httpfront

import (
	"net"
	"syscall"
)

// rawListener is Linux-only (see accept_linux.go): elsewhere every
// connection is the netpoller's.
func rawListener(net.Listener) syscall.RawConn { return nil }

// accept accepts the next connection for acceptor a.
func (in *inline) accept(a *acceptor) (net.Conn, error) { return in.acceptServed(a) }
