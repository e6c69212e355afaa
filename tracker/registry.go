package tracker

import (
	"context"
	"errors"
	"fmt"
)

// Registration is one torrent registered through the admin API.
type Registration struct {
	// InfoHash names the torrent and its swarm: for a hybrid (v1 + v2)
	// torrent, its v1 info hash.
	InfoHash InfoHash
	// Alias, when not zero, is another info hash clients announce the
	// same torrent under: the v2 info hash of a hybrid torrent truncated
	// to 20 bytes (BEP 52). Announces and scrapes under it are served
	// from InfoHash's swarm.
	Alias InfoHash
}

// HasAlias reports whether the registration has an alias.
func (r Registration) HasAlias() bool { return r.Alias != InfoHash{} }

// Validate reports a registration no store should keep.
func (r Registration) Validate() error {
	if r.HasAlias() && r.Alias == r.InfoHash {
		return fmt.Errorf("registration of %s: the alias is the info hash itself", r.InfoHash)
	}
	return nil
}

// ErrConflict is wrapped by AddAllowed when the registration would give an
// info hash two swarms: its alias is registered as a torrent of its own or
// as another torrent's alias, or its info hash is another torrent's alias.
var ErrConflict = errors.New("info hash already registered otherwise")

// AllowStore keeps the set of torrents registered through the tracker's
// admin API, shared by every replica on the same store. The set is small (a
// publisher's catalogue), so replicas keep a copy and ask for the version to
// notice changes; announces never wait on it.
type AllowStore interface {
	// AddAllowed registers a torrent, replacing any registration of the
	// same info hash (so a registration without an alias drops the one it
	// had); registering the same twice changes nothing. A conflicting
	// alias is refused with an error wrapping ErrConflict.
	AddAllowed(ctx context.Context, r Registration) error
	// RemoveAllowed withdraws the torrent h names, by its info hash or by
	// its alias, with its alias; withdrawing an unknown hash changes
	// nothing.
	RemoveAllowed(ctx context.Context, h InfoHash) error
	// ListAllowed returns every registration.
	ListAllowed(ctx context.Context) ([]Registration, error)
	// AllowedVersion changes whenever the set changes.
	AllowedVersion(ctx context.Context) (int64, error)
}

// Aliases maps the other info hash of a registered hybrid torrent to the
// info hash its swarm is kept under.
//
// The tracker resolves an alias before it calls the Store, from a copy of
// the registrations that every replica keeps in memory (the registry, synced
// within a second like the registered set), rather than the store resolving
// it in its announce: on Redis Cluster a script may touch only the keys of
// one slot, and an alias key in its own slot could not be read in the same
// call as the swarm it names. So a Store only ever sees the canonical info
// hash: one swarm under one hash tag, one round trip per announce, on every
// store alike.
type Aliases interface {
	// Canonical returns the info hash of the swarm h belongs to when h is
	// an alias, and false otherwise.
	Canonical(h InfoHash) (InfoHash, bool)
}
