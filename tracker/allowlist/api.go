package allowlist

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

// APIPrefix is where the registration API lives on the admin listener.
const APIPrefix = "/admin/torrents"

// Handler serves the registration API for the registry:
//
//	PUT    /admin/torrents/HEX[?v2=V2HEX]  register a torrent (204)
//	DELETE /admin/torrents/HEX             withdraw it (204)
//	GET    /admin/torrents                 the registered torrents, a JSON list of hex
//	GET    /admin/torrents/HEX             one registration, JSON (404 if none)
//
// HEX is an info hash: 40 hex digits, or the 64 of a v2 info hash, which
// stands for its first 20 bytes as clients announce it (BEP 52). v2 names
// the v2 info hash of a hybrid (v1 + v2) torrent registered under its v1
// hash, in 64 hex digits or 40 already truncated: announces and scrapes
// under either hash are then one swarm. A PUT replaces the registration
// (without v2, a hybrid becomes v1 only); one whose v2 hash is registered
// otherwise is refused with 409. DELETE and GET take either hash.
//
// Every request needs "Authorization: Bearer TOKEN", compared in constant
// time. Without a configured token the API refuses everything: no token, no
// registration.
func (r *Registry) Handler(token []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT "+APIPrefix+"/{hash}", r.put)
	mux.HandleFunc("DELETE "+APIPrefix+"/{hash}", r.delete)
	mux.HandleFunc("GET "+APIPrefix+"/{hash}", r.get)
	mux.HandleFunc("GET "+APIPrefix, func(w http.ResponseWriter, _ *http.Request) {
		hashes := r.Hashes()
		list := make([]string, len(hashes))
		for i, h := range hashes {
			list[i] = h.String()
		}
		slices.Sort(list)
		writeJSON(w, list)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if len(token) == 0 {
			http.Error(w, "registration is disabled: the tracker has no admin token", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tracker admin"`)
			http.Error(w, "missing or wrong admin token", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, req)
	})
}

// registrationJSON is one registration as GET shows it.
type registrationJSON struct {
	InfoHash string `json:"info_hash"`
	// V2 is the v2 info hash truncated to 20 bytes, as clients announce it.
	V2 string `json:"v2,omitempty"`
}

func (r *Registry) put(w http.ResponseWriter, req *http.Request) {
	reg, err := parseRegistration(req.PathValue("hash"), req.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.change(w, req, reg, func(ctx context.Context) error { return r.Add(ctx, reg) })
}

func (r *Registry) delete(w http.ResponseWriter, req *http.Request) {
	h, err := ParseHash(req.PathValue("hash"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.change(w, req, tracker.Registration{InfoHash: h}, func(ctx context.Context) error { return r.Remove(ctx, h) })
}

func (r *Registry) get(w http.ResponseWriter, req *http.Request) {
	h, err := ParseHash(req.PathValue("hash"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reg, ok := r.Lookup(h)
	if !ok {
		http.Error(w, "not registered: "+h.String(), http.StatusNotFound)
		return
	}
	out := registrationJSON{InfoHash: reg.InfoHash.String()}
	if reg.HasAlias() {
		out.V2 = reg.Alias.String()
	}
	writeJSON(w, out)
}

func (r *Registry) change(w http.ResponseWriter, req *http.Request, reg tracker.Registration, op func(context.Context) error) {
	ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
	defer cancel()
	attrs := []any{"info_hash", reg.InfoHash.String(), "method", req.Method}
	if reg.HasAlias() {
		attrs = append(attrs, "v2", reg.Alias.String())
	}
	if err := op(ctx); err != nil {
		if errors.Is(err, tracker.ErrConflict) {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		r.log.Error("registration failed", append(attrs, "err", err)...)
		http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	r.log.Info("registration changed", attrs...)
	w.WriteHeader(http.StatusNoContent)
}

// parseRegistration reads a PUT's info hash and its v2 parameter; any other
// parameter is refused, so that a misspelt one is not silently dropped.
func parseRegistration(path string, q url.Values) (tracker.Registration, error) {
	var reg tracker.Registration
	var err error
	if reg.InfoHash, err = ParseHash(path); err != nil {
		return reg, err
	}
	for k, v := range q {
		if k != "v2" {
			return reg, fmt.Errorf("unknown parameter %q (want only v2)", k)
		}
		if len(v) != 1 {
			return reg, fmt.Errorf("v2: given %d times", len(v))
		}
		if reg.Alias, err = ParseHash(v[0]); err != nil {
			return reg, fmt.Errorf("v2: %w", err)
		}
	}
	if err := reg.Validate(); err != nil {
		return reg, err
	}
	return reg, nil
}

// ParseHash parses an info hash as the API takes it: 40 hex digits, or the
// 64 of a v2 info hash (SHA-256), which stands for its first 20 bytes, the
// info hash v2-aware clients announce (BEP 52). Upper case is accepted.
func ParseHash(s string) (tracker.InfoHash, error) {
	s = strings.ToLower(s)
	if len(s) == 64 {
		var full [32]byte
		if _, err := hex.Decode(full[:], []byte(s)); err != nil {
			return tracker.InfoHash{}, fmt.Errorf("v2 info hash %q: %w", s, err)
		}
		return tracker.InfoHash(full[:20]), nil
	}
	return tracker.ParseInfoHash(s)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
