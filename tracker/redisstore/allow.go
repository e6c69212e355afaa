package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/bitorigin/bitorigin/tracker"
)

var (
	//go:embed register.lua
	registerSrc string
	//go:embed unregister.lua
	unregisterSrc string

	registerScript   = redis.NewScript(registerSrc)
	unregisterScript = redis.NewScript(unregisterSrc)
)

var _ tracker.AllowStore = (*Store)(nil)

// allowKeys are the registrations' keys: the registered set, its version,
// the aliases (alias -> info hash) and the hybrids (info hash -> alias).
// They share one hash tag, so that a change of all is one script on one
// Cluster slot. Replicas of an older version read the set alone, and serve
// a hybrid under its info hash only.
func (s *Store) allowKeys() []string {
	base := s.prefix + ":{allow}:"
	return []string{base + "set", base + "version", base + "alias", base + "hybrid"}
}

// AddAllowed registers a torrent for every replica.
func (s *Store) AddAllowed(ctx context.Context, r tracker.Registration) error {
	if err := r.Validate(); err != nil {
		return err
	}
	alias := ""
	if r.HasAlias() {
		alias = r.Alias.String()
	}
	err := registerScript.Run(ctx, s.c, s.allowKeys(), r.InfoHash.String(), alias).Err()
	var reply redis.Error
	if errors.As(err, &reply) {
		if msg, ok := strings.CutPrefix(reply.Error(), "CONFLICT "); ok {
			return fmt.Errorf("redis register %s: %w: %s", r.InfoHash, tracker.ErrConflict, msg)
		}
	}
	if err != nil {
		return fmt.Errorf("redis register %s: %w", r.InfoHash, err)
	}
	return nil
}

// RemoveAllowed withdraws a torrent, by its info hash or its alias, for
// every replica.
func (s *Store) RemoveAllowed(ctx context.Context, h tracker.InfoHash) error {
	if err := unregisterScript.Run(ctx, s.c, s.allowKeys(), h.String()).Err(); err != nil {
		return fmt.Errorf("redis unregister %s: %w", h, err)
	}
	return nil
}

// ListAllowed returns the registrations, read in one transaction so that
// a registration and its alias are seen together.
func (s *Store) ListAllowed(ctx context.Context) ([]tracker.Registration, error) {
	keys := s.allowKeys()
	var members *redis.StringSliceCmd
	var aliases, hybrids *redis.MapStringStringCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		members = p.SMembers(ctx, keys[0])
		aliases = p.HGetAll(ctx, keys[2])
		hybrids = p.HGetAll(ctx, keys[3])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis list registered torrents: %w", err)
	}
	out := make([]tracker.Registration, 0, len(members.Val()))
	for _, m := range members.Val() {
		h, err := tracker.ParseInfoHash(m)
		if err != nil {
			continue // not ours; never fail the whole list for one member
		}
		r := tracker.Registration{InfoHash: h}
		// An alias counts when both directions agree: an older
		// replica's withdrawal leaves one behind.
		if a, ok := hybrids.Val()[m]; ok && aliases.Val()[a] == m {
			if r.Alias, err = tracker.ParseInfoHash(a); err != nil {
				r.Alias = tracker.InfoHash{} // serve it under its info hash alone
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// AllowedVersion returns the set's change counter (0 before any change).
func (s *Store) AllowedVersion(ctx context.Context) (int64, error) {
	v, err := s.c.Get(ctx, s.allowKeys()[1]).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redis registered-torrents version: %w", err)
	}
	return v, nil
}
