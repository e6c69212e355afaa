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
// another's change within one poll. It also names the swarm of a hybrid
// torrent's alias (tracker.Aliases) from the same copy, so a replica never
// serves an alias it cannot resolve.
type Registry struct {
	store   tracker.AllowStore
	log     *slog.Logger
	snap    atomic.Pointer[snapshot]
	version atomic.Int64
}

// snapshot is one version of the registrations, swapped whole.
type snapshot struct {
	hashes  map[tracker.InfoHash]tracker.InfoHash // info hash -> alias (zero for none)
	aliases map[tracker.InfoHash]tracker.InfoHash // alias -> info hash
}

var (
	_ tracker.Allower = (*Registry)(nil)
	_ tracker.Aliases = (*Registry)(nil)
)

// NewRegistry returns a registry over store. It loads the set once; when
// the store does not answer, it starts empty and Watch fills it later.
func NewRegistry(ctx context.Context, store tracker.AllowStore, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{store: store, log: log}
	r.snap.Store(&snapshot{})
	r.version.Store(-1)
	if err := r.refresh(ctx); err != nil {
		log.Warn("registered torrents not loaded yet", "err", err)
	}
	return r
}

// Allowed reports whether h is registered, as an info hash or as an alias.
func (r *Registry) Allowed(h tracker.InfoHash) bool {
	s := r.snap.Load()
	if _, ok := s.hashes[h]; ok {
		return true
	}
	_, ok := s.aliases[h]
	return ok
}

// Canonical returns the registered info hash h is the alias of.
func (r *Registry) Canonical(h tracker.InfoHash) (tracker.InfoHash, bool) {
	c, ok := r.snap.Load().aliases[h]
	return c, ok
}

// Hashes returns the registered info hashes, without their aliases: one
// per swarm.
func (r *Registry) Hashes() []tracker.InfoHash {
	s := r.snap.Load()
	out := make([]tracker.InfoHash, 0, len(s.hashes))
	for h := range s.hashes {
		out = append(out, h)
	}
	return out
}

// Lookup returns the registration h names, by its info hash or its alias.
func (r *Registry) Lookup(h tracker.InfoHash) (tracker.Registration, bool) {
	s := r.snap.Load()
	if c, ok := s.aliases[h]; ok {
		h = c
	}
	alias, ok := s.hashes[h]
	return tracker.Registration{InfoHash: h, Alias: alias}, ok
}

// Add registers a torrent (replacing an earlier registration of its info
// hash) and updates this replica's copy at once.
func (r *Registry) Add(ctx context.Context, reg tracker.Registration) error {
	if err := r.store.AddAllowed(ctx, reg); err != nil {
		return err
	}
	return r.refresh(ctx)
}

// Remove withdraws the torrent h names, by its info hash or its alias, and
// updates this replica's copy at once.
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
	s := &snapshot{
		hashes:  make(map[tracker.InfoHash]tracker.InfoHash, len(list)),
		aliases: make(map[tracker.InfoHash]tracker.InfoHash),
	}
	for _, reg := range list {
		s.hashes[reg.InfoHash] = reg.Alias
		if reg.HasAlias() {
			s.aliases[reg.Alias] = reg.InfoHash
		}
	}
	r.snap.Store(s)
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
			r.log.Info("registered torrents refreshed again", "torrents", len(r.snap.Load().hashes))
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
