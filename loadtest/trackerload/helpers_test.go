package trackerload

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/httpfront"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

// startTracker serves an in-memory tracker over HTTP on a loopback port
// and returns its announce URL.
func startTracker(t *testing.T, cfg tracker.Config) string {
	t.Helper()
	store, err := memstore.New(memstore.Config{Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.New(cfg, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpfront.New(tr, httpfront.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		store.Close()
	})
	return "http://" + ln.Addr().String() + "/announce"
}
