package allowlist

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

// Registry is the allow list that lives in the swarm store, filled through
// the tracker's admin API (a seeder registers what it serves). Each replica
// keeps a copy, so an announce never waits on the store; a replica notices
// another's change within one poll.
type Registry struct {
	store   tracker.AllowStore
	log     *slog.Logger
	set     atomic.Pointer[map[tracker.InfoHash]struct{}]
	version atomic.Int64
}

var _ tracker.Allower = (*Registry)(nil)

// NewRegistry returns a registry over store. It loads the set once; when
// the store does not answer, it starts empty and Watch fills it later.
func NewRegistry(ctx context.Context, store tracker.AllowStore, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{store: store, log: log}
	empty := map[tracker.InfoHash]struct{}{}
	r.set.Store(&empty)
	r.version.Store(-1)
	if err := r.refresh(ctx); err != nil {
		log.Warn("registered torrents not loaded yet", "err", err)
	}
	return r
}

// Allowed reports whether h is registered.
func (r *Registry) Allowed(h tracker.InfoHash) bool {
	_, ok := (*r.set.Load())[h]
	return ok
}

// Hashes returns the registered torrents.
func (r *Registry) Hashes() []tracker.InfoHash {
	set := *r.set.Load()
	out := make([]tracker.InfoHash, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	return out
}

// Add registers h and updates this replica's copy at once.
func (r *Registry) Add(ctx context.Context, h tracker.InfoHash) error {
	if err := r.store.AddAllowed(ctx, h); err != nil {
		return err
	}
	return r.refresh(ctx)
}

// Remove withdraws h and updates this replica's copy at once.
func (r *Registry) Remove(ctx context.Context, h tracker.InfoHash) error {
	if err := r.store.RemoveAllowed(ctx, h); err != nil {
		return err
	}
	return r.refresh(ctx)
}

// refresh reloads the set when its version moved.
func (r *Registry) refresh(ctx context.Context) error {
	v, err := r.store.AllowedVersion(ctx)
	if err != nil {
		return fmt.Errorf("registered torrents: %w", err)
	}
	if v == r.version.Load() {
		return nil
	}
	list, err := r.store.ListAllowed(ctx)
	if err != nil {
		return fmt.Errorf("registered torrents: %w", err)
	}
	set := make(map[tracker.InfoHash]struct{}, len(list))
	for _, h := range list {
		set[h] = struct{}{}
	}
	r.set.Store(&set)
	r.version.Store(v)
	return nil
}

// Watch polls the store's version every poll until ctx ends, so changes
// made through other replicas reach this one.
func (r *Registry) Watch(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, poll)
		err := r.refresh(qctx)
		cancel()
		switch {
		case err != nil && !failing:
			failing = true
			r.log.Warn("registered torrents not refreshed; keeping the last copy", "err", err)
		case err == nil && failing:
			failing = false
			r.log.Info("registered torrents refreshed again", "torrents", len(*r.set.Load()))
		}
	}
}

// Any allows a torrent that any of its lists allows.
type Any []tracker.Allower

// Allowed reports whether some list allows h.
func (a Any) Allowed(h tracker.InfoHash) bool {
	for _, l := range a {
		if l.Allowed(h) {
			return true
		}
	}
	return false
}
