package httpfront

import (
	"context"
	"net"
	"syscall"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// Keep-alive probes cost four setsockopt calls per accepted connection; the
// timeouts already close quiet connections (see Listen).
func TestAcceptedConnectionsHaveNoKeepAliveProbes(t *testing.T) {
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// TCP_DEFER_ACCEPT holds the connection back until data arrives.
	if _, err := client.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if on := testenv.SockoptInt(t, c.(*net.TCPConn), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); on != 0 {
		t.Fatalf("SO_KEEPALIVE is %d on an accepted connection, want 0", on)
	}
}
