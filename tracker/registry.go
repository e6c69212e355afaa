package tracker

import "context"

// AllowStore keeps the set of torrents registered through the tracker's
// admin API, shared by every replica on the same store. The set is small (a
// publisher's catalogue), so replicas keep a copy and ask for the version to
// notice changes; announces never wait on it.
type AllowStore interface {
	// AddAllowed and RemoveAllowed change the set; both are idempotent.
	AddAllowed(ctx context.Context, h InfoHash) error
	RemoveAllowed(ctx context.Context, h InfoHash) error
	// ListAllowed returns the whole set.
	ListAllowed(ctx context.Context) ([]InfoHash, error)
	// AllowedVersion changes whenever the set changes.
	AllowedVersion(ctx context.Context) (int64, error)
}
