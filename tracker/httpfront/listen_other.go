//go:build !linux

package httpfront

import (
	"context"
	"fmt"
	"net"
)

// Listen opens the tracker's TCP listener (":port" is one dual-stack
// socket), with no TCP keep-alive probes on accepted connections (see the
// Linux version). TCP_DEFER_ACCEPT is Linux-only.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}
