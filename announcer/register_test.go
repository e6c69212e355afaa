package announcer

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/allowlist"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

func TestRegistrarAgainstTheTrackersAPI(t *testing.T) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := allowlist.NewRegistry(context.Background(), store, nil)
	srv := httptest.NewServer(reg.Handler([]byte("token-of-sixteen-bytes")))
	defer srv.Close()
	h := [20]byte{1, 2, 3}

	bad := &Registrar{URLs: []string{srv.URL}, Token: "wrong-token-wrong-token"}
	if err := bad.Register(context.Background(), h); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v", err)
	}
	good := &Registrar{URLs: []string{srv.URL + "/"}, Token: "token-of-sixteen-bytes"}
	if err := good.Register(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if !reg.Allowed(tracker.InfoHash(h)) {
		t.Fatal("not registered")
	}
	if err := good.Unregister(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if reg.Allowed(tracker.InfoHash(h)) {
		t.Fatal("still registered")
	}
	// Keep gives up only when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := bad.Keep(ctx, h); err == nil {
		t.Fatal("Keep with a wrong token succeeded")
	}
}
