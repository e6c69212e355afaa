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

func TestRegistrarRegistersAHybridUnderBothHashes(t *testing.T) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := allowlist.NewRegistry(context.Background(), store, nil)
	srv := httptest.NewServer(reg.Handler([]byte("token-of-sixteen-bytes")))
	defer srv.Close()
	v1 := [20]byte{1, 2, 3}
	var v2 [32]byte
	for i := range v2 {
		v2[i] = byte(0xa0 + i)
	}
	alias := tracker.InfoHash(v2[:20])

	r := &Registrar{URLs: []string{srv.URL}, Token: "token-of-sixteen-bytes"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.KeepHybrid(ctx, v1, v2); err != nil {
		t.Fatal(err)
	}
	if c, ok := reg.Canonical(alias); !ok || c != tracker.InfoHash(v1) || !reg.Allowed(tracker.InfoHash(v1)) {
		t.Fatalf("after RegisterHybrid: the truncated v2 hash names %s (%v)", c, ok)
	}
	// Another torrent claiming the same v2 hash is refused, and says so.
	if err := r.RegisterHybrid(ctx, [20]byte{9}, v2); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("a second torrent with the same v2 hash: %v", err)
	}
	// Registered again without v2, it is v1 only.
	if err := r.Register(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if reg.Allowed(alias) {
		t.Fatal("the v2 hash is still served after a v1-only registration")
	}
	if err := r.RegisterHybrid(ctx, v1, v2); err != nil {
		t.Fatal(err)
	}
	if err := r.Unregister(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if reg.Allowed(alias) || reg.Allowed(tracker.InfoHash(v1)) {
		t.Fatal("a hash still served after Unregister")
	}
}
