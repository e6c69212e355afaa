package allowlist

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

func newRegistry(t *testing.T) (*Registry, *memstore.Store) {
	t.Helper()
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return NewRegistry(context.Background(), store, nil), store
}

func TestRegistrationAPIAddsListsAndRemoves(t *testing.T) {
	r, _ := newRegistry(t)
	srv := httptest.NewServer(r.Handler([]byte("s3cret-token")))
	defer srv.Close()
	do := func(method, path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	h := mustHash(t, hexA)
	if code, _ := do("PUT", APIPrefix+"/"+hexA, ""); code != 401 {
		t.Fatalf("PUT without token: %d", code)
	}
	if code, _ := do("PUT", APIPrefix+"/"+hexA, "s3cret-tokeN"); code != 401 {
		t.Fatalf("PUT with a wrong token: %d", code)
	}
	if r.Allowed(h) {
		t.Fatal("registered without a valid token")
	}
	if code, _ := do("PUT", APIPrefix+"/"+strings.ToUpper(hexA), "s3cret-token"); code != 204 {
		t.Fatalf("PUT: %d", code)
	}
	if !r.Allowed(h) {
		t.Fatal("not allowed right after registration")
	}
	if code, _ := do("PUT", APIPrefix+"/nothex", "s3cret-token"); code != 400 {
		t.Fatalf("PUT of a bad hash: %d", code)
	}
	code, body := do("GET", APIPrefix, "s3cret-token")
	var list []string
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 || list[0] != hexA {
		t.Fatalf("GET: %d %q", code, body)
	}
	if code, _ := do("DELETE", APIPrefix+"/"+hexA, "s3cret-token"); code != 204 {
		t.Fatalf("DELETE: %d", code)
	}
	if r.Allowed(h) {
		t.Fatal("still allowed after removal")
	}
}

func TestNoTokenNoRegistration(t *testing.T) {
	r, _ := newRegistry(t)
	srv := httptest.NewServer(r.Handler(nil))
	defer srv.Close()
	req, _ := http.NewRequest("PUT", srv.URL+APIPrefix+"/"+hexA, nil)
	req.Header.Set("Authorization", "Bearer ")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || r.Allowed(mustHash(t, hexA)) {
		t.Fatalf("registration without a configured token: %d", resp.StatusCode)
	}
}

func TestReplicasSeeEachOthersRegistrations(t *testing.T) {
	a, store := newRegistry(t)
	b := NewRegistry(context.Background(), store, nil) // another replica, same store
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Watch(ctx, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	h := mustHash(t, hexB)
	if err := a.Add(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.Allowed(h) })
	if err := a.Remove(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return !b.Allowed(h) })
	if !(Any{setOf(mustHash(t, hexA)), b}).Allowed(mustHash(t, hexA)) || (Any{b}).Allowed(h) {
		t.Fatal("Any does not combine lists")
	}
}

type setOf tracker.InfoHash

func (s setOf) Allowed(h tracker.InfoHash) bool { return tracker.InfoHash(s) == h }
