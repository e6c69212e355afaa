package announcer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Registrar registers the torrents a seeder serves with trackers that run
// in allow-list mode, through their authenticated admin API
// (PUT and DELETE /admin/torrents/HASH).
type Registrar struct {
	// URLs are the trackers' admin base URLs, such as
	// http://tracker-admin:6970.
	URLs []string
	// Token is the trackers' admin token.
	Token string
	// HTTP is the client used (10 s timeout when nil).
	HTTP *http.Client
	// Logger receives failed attempts.
	Logger *slog.Logger
}

// Register tells every tracker to serve the torrent. For a hybrid torrent
// it makes the torrent v1 only again: use RegisterHybrid.
func (r *Registrar) Register(ctx context.Context, infoHash [20]byte) error {
	return r.each(ctx, http.MethodPut, infoHash, "")
}

// RegisterHybrid tells every tracker to serve a hybrid (v1 + v2, BEP 52)
// torrent as one swarm under its v1 info hash and its v2 info hash (the
// whole SHA-256; clients announce its first 20 bytes), so that clients
// announcing either meet and a download counts once. A tracker that
// predates hybrid registration ignores v2 and serves the v1 hash alone.
func (r *Registrar) RegisterHybrid(ctx context.Context, infoHash [20]byte, v2 [32]byte) error {
	return r.each(ctx, http.MethodPut, infoHash, "?v2="+hex.EncodeToString(v2[:]))
}

// Unregister tells every tracker to stop serving the torrent, under both
// hashes for a hybrid.
func (r *Registrar) Unregister(ctx context.Context, infoHash [20]byte) error {
	return r.each(ctx, http.MethodDelete, infoHash, "")
}

// Keep registers the torrent, retrying with back-off (1 s doubling up to a
// minute) until every tracker took it or ctx ends.
func (r *Registrar) Keep(ctx context.Context, infoHash [20]byte) error {
	return r.keep(ctx, infoHash, func() error { return r.Register(ctx, infoHash) })
}

// KeepHybrid is Keep for a hybrid torrent (see RegisterHybrid).
func (r *Registrar) KeepHybrid(ctx context.Context, infoHash [20]byte, v2 [32]byte) error {
	return r.keep(ctx, infoHash, func() error { return r.RegisterHybrid(ctx, infoHash, v2) })
}

func (r *Registrar) keep(ctx context.Context, infoHash [20]byte, register func() error) error {
	wait := time.Second
	for {
		err := register()
		if err == nil {
			return nil
		}
		r.logger().Warn("registration with the tracker failed; retrying", "info_hash", hex.EncodeToString(infoHash[:]), "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("register %x: %w", infoHash, errors.Join(err, ctx.Err()))
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

func (r *Registrar) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// each sends method for the torrent to every tracker; query is "" or
// starts with "?".
func (r *Registrar) each(ctx context.Context, method string, infoHash [20]byte, query string) error {
	client := r.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var errs []error
	for _, base := range r.URLs {
		u := strings.TrimRight(base, "/") + "/admin/torrents/" + hex.EncodeToString(infoHash[:]) + query
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", method, u, err))
			continue
		}
		req.Header.Set("Authorization", "Bearer "+r.Token)
		resp, err := client.Do(req)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", method, u, err))
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			errs = append(errs, fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, strings.TrimSpace(string(body))))
		}
	}
	return errors.Join(errs...)
}
