package allowlist

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

// APIPrefix is where the registration API lives on the admin listener.
const APIPrefix = "/admin/torrents"

// Handler serves the registration API for the registry:
//
//	PUT    /admin/torrents/HEX   register a torrent (204)
//	DELETE /admin/torrents/HEX   withdraw it (204)
//	GET    /admin/torrents       the registered torrents, a JSON list of hex
//
// Every request needs "Authorization: Bearer TOKEN", compared in constant
// time. Without a configured token the API refuses everything: no token, no
// registration.
func (r *Registry) Handler(token []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT "+APIPrefix+"/{hash}", func(w http.ResponseWriter, req *http.Request) {
		r.change(w, req, r.Add)
	})
	mux.HandleFunc("DELETE "+APIPrefix+"/{hash}", func(w http.ResponseWriter, req *http.Request) {
		r.change(w, req, r.Remove)
	})
	mux.HandleFunc("GET "+APIPrefix, func(w http.ResponseWriter, _ *http.Request) {
		hashes := r.Hashes()
		list := make([]string, len(hashes))
		for i, h := range hashes {
			list[i] = h.String()
		}
		slices.Sort(list)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list)
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

func (r *Registry) change(w http.ResponseWriter, req *http.Request, op func(context.Context, tracker.InfoHash) error) {
	h, err := tracker.ParseInfoHash(strings.ToLower(req.PathValue("hash")))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), 5*time.Second)
	defer cancel()
	if err := op(ctx, h); err != nil {
		r.log.Error("registration failed", "info_hash", h.String(), "method", req.Method, "err", err)
		http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	r.log.Info("registration changed", "info_hash", h.String(), "method", req.Method)
	w.WriteHeader(http.StatusNoContent)
}
