//go:build !linux

package httpfront

import (
	"context"
	"fmt"
	"net"
)

// Listen opens the tracker's TCP listener (":port" is one dual-stack
// socket). TCP_DEFER_ACCEPT is Linux-only.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}
