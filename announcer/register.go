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

// Register tells every tracker to serve the torrent.
func (r *Registrar) Register(ctx context.Context, infoHash [20]byte) error {
	return r.each(ctx, http.MethodPut, infoHash)
}

// Unregister tells every tracker to stop serving the torrent.
func (r *Registrar) Unregister(ctx context.Context, infoHash [20]byte) error {
	return r.each(ctx, http.MethodDelete, infoHash)
}

// Keep registers the torrent, retrying with back-off (1 s doubling up to a
// minute) until every tracker took it or ctx ends.
func (r *Registrar) Keep(ctx context.Context, infoHash [20]byte) error {
	wait := time.Second
	for {
		err := r.Register(ctx, infoHash)
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

func (r *Registrar) each(ctx context.Context, method string, infoHash [20]byte) error {
	client := r.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	var errs []error
	for _, base := range r.URLs {
		u := strings.TrimRight(base, "/") + "/admin/torrents/" + hex.EncodeToString(infoHash[:])
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
