package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/bitorigin/bitorigin/tracker"
)

// allowSet is the in-process set of registered torrents.
type allowSet struct {
	mu sync.Mutex
	// set maps each registered info hash to its alias (zero for none),
	// aliases each alias back to its info hash.
	set     map[tracker.InfoHash]tracker.InfoHash
	aliases map[tracker.InfoHash]tracker.InfoHash
	version int64
}

var _ tracker.AllowStore = (*Store)(nil)

// AddAllowed registers a torrent, replacing the alias of an earlier
// registration of its info hash.
func (s *Store) AddAllowed(_ context.Context, r tracker.Registration) error {
	if err := r.Validate(); err != nil {
		return err
	}
	a := &s.allow
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set == nil {
		a.set = make(map[tracker.InfoHash]tracker.InfoHash)
		a.aliases = make(map[tracker.InfoHash]tracker.InfoHash)
	}
	if owner, ok := a.aliases[r.InfoHash]; ok {
		return fmt.Errorf("register %s: %w: it is the alias of %s", r.InfoHash, tracker.ErrConflict, owner)
	}
	if r.HasAlias() {
		if _, ok := a.set[r.Alias]; ok {
			return fmt.Errorf("register %s with alias %s: %w: the alias is registered as a torrent", r.InfoHash, r.Alias, tracker.ErrConflict)
		}
		if owner, ok := a.aliases[r.Alias]; ok && owner != r.InfoHash {
			return fmt.Errorf("register %s with alias %s: %w: the alias is that of %s", r.InfoHash, r.Alias, tracker.ErrConflict, owner)
		}
	}
	prev, known := a.set[r.InfoHash]
	if known && prev == r.Alias {
		return nil
	}
	if known && prev != (tracker.InfoHash{}) {
		delete(a.aliases, prev)
	}
	a.set[r.InfoHash] = r.Alias
	if r.HasAlias() {
		a.aliases[r.Alias] = r.InfoHash
	}
	a.version++
	return nil
}

// RemoveAllowed withdraws the torrent h names, by its info hash or its
// alias, with its alias.
func (s *Store) RemoveAllowed(_ context.Context, h tracker.InfoHash) error {
	a := &s.allow
	a.mu.Lock()
	defer a.mu.Unlock()
	if owner, ok := a.aliases[h]; ok {
		h = owner
	}
	alias, ok := a.set[h]
	if !ok {
		return nil
	}
	delete(a.set, h)
	delete(a.aliases, alias)
	a.version++
	return nil
}

// ListAllowed returns the registrations.
func (s *Store) ListAllowed(context.Context) ([]tracker.Registration, error) {
	a := &s.allow
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]tracker.Registration, 0, len(a.set))
	for h, alias := range a.set {
		out = append(out, tracker.Registration{InfoHash: h, Alias: alias})
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
