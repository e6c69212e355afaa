package memstore

import (
	"context"
	"sync"

	"github.com/bitorigin/bitorigin/tracker"
)

// allowSet is the in-process registered-torrent set.
type allowSet struct {
	mu      sync.Mutex
	set     map[tracker.InfoHash]struct{}
	version int64
}

var _ tracker.AllowStore = (*Store)(nil)

// AddAllowed registers a torrent.
func (s *Store) AddAllowed(_ context.Context, h tracker.InfoHash) error {
	a := &s.allow
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set == nil {
		a.set = make(map[tracker.InfoHash]struct{})
	}
	if _, ok := a.set[h]; !ok {
		a.set[h] = struct{}{}
		a.version++
	}
	return nil
}

// RemoveAllowed withdraws a torrent.
func (s *Store) RemoveAllowed(_ context.Context, h tracker.InfoHash) error {
	a := &s.allow
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.set[h]; ok {
		delete(a.set, h)
		a.version++
	}
	return nil
}

// ListAllowed returns the registered torrents.
func (s *Store) ListAllowed(context.Context) ([]tracker.InfoHash, error) {
	a := &s.allow
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]tracker.InfoHash, 0, len(a.set))
	for h := range a.set {
		out = append(out, h)
	}
	return out, nil
}

// AllowedVersion changes with every change of the set.
func (s *Store) AllowedVersion(context.Context) (int64, error) {
	a := &s.allow
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.version, nil
}
