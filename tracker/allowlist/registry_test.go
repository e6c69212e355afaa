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

// apiClient calls the registration API of a test server with the token.
func apiClient(t *testing.T, srv *httptest.Server, token string) func(method, path string) (int, string) {
	return func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

func TestRegistrationAPIRegistersAHybridUnderBothHashes(t *testing.T) {
	r, _ := newRegistry(t)
	srv := httptest.NewServer(r.Handler([]byte("s3cret-token")))
	defer srv.Close()
	do := apiClient(t, srv, "s3cret-token")
	// A v2 info hash (SHA-256) and the 20 bytes clients announce of it.
	const v2 = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc"
	trunc := v2[:40]
	v1, alias := mustHash(t, hexA), mustHash(t, trunc)

	if code, body := do("PUT", APIPrefix+"/"+hexA+"?v2="+strings.ToUpper(v2)); code != 204 {
		t.Fatalf("PUT with v2: %d %s", code, body)
	}
	if c, ok := r.Canonical(alias); !ok || c != v1 || !r.Allowed(alias) || !r.Allowed(v1) {
		t.Fatalf("after PUT with v2: canonical %s %v, allowed %v %v", c, ok, r.Allowed(alias), r.Allowed(v1))
	}
	if _, ok := r.Canonical(v1); ok {
		t.Fatal("the v1 hash is an alias of something")
	}
	// GET lists one torrent (per-torrent series follow this list: one
	// per swarm), and shows the registration under either hash.
	code, body := do("GET", APIPrefix)
	var list []string
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 || list[0] != hexA {
		t.Fatalf("GET: %d %q", code, body)
	}
	if hs := r.Hashes(); len(hs) != 1 || hs[0] != v1 {
		t.Fatalf("Hashes (the per-torrent series) = %v, want the v1 hash alone", hs)
	}
	for _, h := range []string{hexA, trunc, v2} {
		code, body := do("GET", APIPrefix+"/"+h)
		var got registrationJSON
		if code != 200 || json.Unmarshal([]byte(body), &got) != nil || got != (registrationJSON{InfoHash: hexA, V2: trunc}) {
			t.Fatalf("GET by %s: %d %q", h, code, body)
		}
	}
	if code, _ := do("GET", APIPrefix+"/"+hexB); code != 404 {
		t.Fatalf("GET of an unregistered hash: %d", code)
	}

	// Another torrent cannot take the alias, nor register it on its own;
	// mistakes are refused before the store.
	for path, want := range map[string]int{
		"/" + hexB + "?v2=" + trunc:   409,
		"/" + trunc:                   409,
		"/" + hexB + "?V2=" + trunc:   400,
		"/" + hexB + "?v2=" + hexB:    400,
		"/" + hexB + "?v2=abc":        400,
		"/" + hexB + "?v2=&v2=" + v2:  400,
		"/" + hexB + "?v2=" + v2[:63]: 400,
	} {
		if code, body := do("PUT", APIPrefix+path); code != want {
			t.Errorf("PUT %s: %d %s, want %d", path, code, body, want)
		}
	}
	if r.Allowed(mustHash(t, hexB)) {
		t.Fatal("a refused registration is served")
	}

	// DELETE by the alias withdraws both hashes.
	if code, _ := do("DELETE", APIPrefix+"/"+v2); code != 204 {
		t.Fatalf("DELETE by v2: %d", code)
	}
	if r.Allowed(v1) || r.Allowed(alias) {
		t.Fatal("still allowed after removal by the alias")
	}
	// A 64-digit path is a v2-only torrent: registered as clients announce it.
	if code, _ := do("PUT", APIPrefix+"/"+v2); code != 204 || !r.Allowed(alias) {
		t.Fatalf("PUT of a v2-only torrent: %d", code)
	}
	if _, ok := r.Canonical(alias); ok {
		t.Fatal("a v2-only torrent is an alias")
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
	if err := a.Add(context.Background(), tracker.Registration{InfoHash: h}); err != nil {
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
