package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/bitorigin/bitorigin/tracker"
)

var _ tracker.AllowStore = (*Store)(nil)

// The registered set and its version share one hash tag, so that a change
// of both is one MULTI on one Cluster slot.
func (s *Store) allowKeys() (set, version string) {
	return s.prefix + ":{allow}:set", s.prefix + ":{allow}:version"
}

// AddAllowed registers a torrent for every replica.
func (s *Store) AddAllowed(ctx context.Context, h tracker.InfoHash) error {
	set, version := s.allowKeys()
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, set, h.String())
		p.Incr(ctx, version)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis register %s: %w", h, err)
	}
	return nil
}

// RemoveAllowed withdraws a torrent for every replica.
func (s *Store) RemoveAllowed(ctx context.Context, h tracker.InfoHash) error {
	set, version := s.allowKeys()
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, set, h.String())
		p.Incr(ctx, version)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis unregister %s: %w", h, err)
	}
	return nil
}

// ListAllowed returns the registered torrents.
func (s *Store) ListAllowed(ctx context.Context) ([]tracker.InfoHash, error) {
	set, _ := s.allowKeys()
	members, err := s.c.SMembers(ctx, set).Result()
	if err != nil {
		return nil, fmt.Errorf("redis list registered torrents: %w", err)
	}
	out := make([]tracker.InfoHash, 0, len(members))
	for _, m := range members {
		h, err := tracker.ParseInfoHash(m)
		if err != nil {
			continue // not ours; never fail the whole list for one member
		}
		out = append(out, h)
	}
	return out, nil
}

// AllowedVersion returns the set's change counter (0 before any change).
func (s *Store) AllowedVersion(ctx context.Context) (int64, error) {
	_, version := s.allowKeys()
	v, err := s.c.Get(ctx, version).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redis registered-torrents version: %w", err)
	}
	return v, nil
}
