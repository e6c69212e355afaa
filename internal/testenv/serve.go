package testenv

import (
	"context"
	"net"
	"testing"
)

// ServeLoopback runs serve (a server's Serve) on a loopback TCP port until
// the test ends, and returns the address. Then it cancels serve's context,
// fails the test if serve returned an error, and shows logs (nil for
// none) if the test failed.
func ServeLoopback(t testing.TB, serve func(context.Context, net.Listener) error, logs *LogBuffer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() && logs != nil {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ln.Addr().String()
}
