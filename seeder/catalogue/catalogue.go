// Package catalogue keeps a seeder's torrents in step with its content
// folder: which entries are served, found by polling the folder, an entry
// published once its files settle and withdrawn when it goes or changes.
// It prepares torrents with package content and hands them to the seeder
// through the two calls of Seeder.
package catalogue

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
)

// Seeder serves the torrents the catalogue publishes (package seeder's
// Seeder does).
type Seeder interface {
	// Add starts serving a torrent and takes it over.
	Add(t *content.Torrent) error
	// Remove withdraws a torrent served, given any of its info hashes.
	Remove(ctx context.Context, infoHash metainfo.InfoHash) error
}

// Defaults of Config.
const (
	DefaultWatchInterval = 2 * time.Second
	DefaultSettle        = 10 * time.Second
)

// Config sets up a Catalogue.
type Config struct {
	// Load says where the content and the torrents are, and how torrents
	// are created and verified.
	Load content.LoadConfig
	// Interval is how often the content folder is looked at
	// (DefaultWatchInterval when 0).
	Interval time.Duration
	// Settle is how long every file of an entry must keep its size and
	// modification time before the entry is published (DefaultSettle
	// when 0), so that a file still being copied is never published.
	Settle time.Duration
	// RemoveTimeout bounds the withdrawal of one torrent: its stopped
	// announce and unregistration (30 s when 0).
	RemoveTimeout time.Duration
}

// Catalogue keeps a seeder's torrents in step with its content folder, by
// polling it: an entry (top-level file or folder) that appears and stays
// unchanged for the settle period gets a torrent, is verified and served;
// an entry that disappears is withdrawn (Seeder.Remove: for package
// seeder's, stopped, peers closed, unregistered). An entry served whose files change is withdrawn
// too, and published again once it settles.
type Catalogue struct {
	cfg     Config
	entries map[string]*entry
	now     func() time.Time
}

// entry is what the catalogue knows of one top-level name.
type entry struct {
	sig    string    // sizes and modification times of its files
	since  time.Time // when sig was first seen
	served bool
	// hashes are the info hashes of its torrents when served: one, and
	// a hybrid's v1-only twin's (content.LoadConfig.V1Twin).
	hashes []metainfo.InfoHash
	failed bool // preparing failed for this sig; retried when it changes
}

// New checks cfg and returns a Catalogue.
func New(cfg Config) (*Catalogue, error) {
	if cfg.Interval == 0 {
		cfg.Interval = DefaultWatchInterval
	}
	if cfg.Settle == 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.RemoveTimeout == 0 {
		cfg.RemoveTimeout = 30 * time.Second
	}
	if cfg.Interval < 0 || cfg.Settle < 0 || cfg.RemoveTimeout < 0 {
		return nil, fmt.Errorf("watch interval %s, settle %s: must not be negative", cfg.Interval, cfg.Settle)
	}
	l := &cfg.Load
	if l.Logger == nil {
		return nil, errors.New("catalogue: no logger")
	}
	if err := l.Resolve(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.TorrentDir, 0o755); err != nil {
		return nil, fmt.Errorf("torrent folder: %w", err)
	}
	return &Catalogue{cfg: cfg, entries: map[string]*entry{}, now: time.Now}, nil
}

// Scan prepares, as content.Load does, every entry of the content folder
// whose files were all last modified at least the settle period ago, and
// returns the torrents for the seeder to start with. Entries modified more recently are left to Run. An
// empty result is not an error: Run publishes what comes.
func (c *Catalogue) Scan(ctx context.Context) ([]*content.Torrent, error) {
	names, err := c.names()
	if err != nil {
		return nil, err
	}
	var (
		out  []*content.Torrent
		seen = map[metainfo.InfoHash]string{}
		now  = c.now()
	)
	for _, name := range names {
		sig, newest, err := signature(filepath.Join(c.cfg.Load.DataDir, name))
		e := &entry{sig: sig, since: now}
		c.entries[name] = e
		if err != nil || now.Sub(newest) < c.cfg.Settle {
			c.cfg.Load.Logger.Info("entry modified recently; publishing it once it settles", "name", name, "settle", c.cfg.Settle)
			continue
		}
		ts, err := c.prepare(ctx, name, sig)
		if ctx.Err() != nil {
			content.CloseAll(out)
			return nil, ctx.Err()
		}
		if other, dup := content.FirstSeen(seen, ts); err == nil && dup {
			content.CloseAll(ts)
			err = fmt.Errorf("same info hash as entry %s", other)
		}
		if err != nil {
			c.cfg.Load.Metrics.TorrentPrepared(false)
			c.cfg.Load.Logger.Error("torrent skipped", "name", name, "err", err)
			e.failed = true
			continue
		}
		c.cfg.Load.Metrics.TorrentPrepared(true)
		e.served = true
		for _, t := range ts {
			seen[t.InfoHash()] = name
			e.hashes = append(e.hashes, t.InfoHash())
		}
		out = append(out, ts...)
	}
	return out, nil
}

// Run polls the content folder every Interval and adds to and removes
// from s until ctx is done. Scan must have run first: what it returned is
// what s serves.
func (c *Catalogue) Run(ctx context.Context, s Seeder) {
	tick := time.NewTicker(c.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := c.step(ctx, s); err != nil && ctx.Err() == nil {
			c.cfg.Load.Logger.Warn("watching the content folder", "err", err)
		}
	}
}

// step looks at the content folder once.
func (c *Catalogue) step(ctx context.Context, s Seeder) error {
	names, err := c.names()
	if err != nil {
		return err
	}
	log := c.cfg.Load.Logger
	now := c.now()
	present := make(map[string]bool, len(names))
	for _, name := range names {
		present[name] = true
		sig, newest, err := signature(filepath.Join(c.cfg.Load.DataDir, name))
		if err != nil {
			sig = "" // vanishing while walked: changing
		}
		e := c.entries[name]
		if e == nil {
			e = &entry{sig: sig, since: now}
			c.entries[name] = e
			log.Debug("new entry in the content folder; waiting for it to settle", "name", name, "settle", c.cfg.Settle)
			continue
		}
		if sig != e.sig {
			e.sig, e.since, e.failed = sig, now, false
			if e.served {
				log.Warn("served data changed on disk; withdrawing it until it settles", "name", name)
				c.withdraw(s, name, e)
			}
			continue
		}
		if e.served || e.failed || sig == "" || now.Sub(e.since) < c.cfg.Settle || now.Sub(newest) < c.cfg.Settle {
			continue
		}
		c.publish(ctx, s, name, e)
		if ctx.Err() != nil {
			return nil
		}
	}
	for name, e := range c.entries {
		if present[name] {
			continue
		}
		if e.served {
			log.Info("entry removed from the content folder", "name", name)
			c.withdraw(s, name, e)
		}
		delete(c.entries, name)
	}
	return nil
}

// publish prepares a settled entry and adds its torrents to s, unless its
// files changed meanwhile.
func (c *Catalogue) publish(ctx context.Context, s Seeder, name string, e *entry) {
	log := c.cfg.Load.Logger
	m := c.cfg.Load.Metrics
	ts, err := c.prepare(ctx, name, e.sig)
	if ctx.Err() != nil {
		content.CloseAll(ts)
		return
	}
	if err == nil {
		if sig, _, serr := signature(filepath.Join(c.cfg.Load.DataDir, name)); serr != nil || sig != e.sig {
			// Changed while hashing: start over once it settles again.
			content.CloseAll(ts)
			m.TorrentPrepared(false)
			e.sig, e.since = sig, c.now()
			log.Info("entry changed while being prepared; waiting for it to settle", "name", name)
			return
		}
	}
	e.hashes = nil
	for i, t := range ts {
		if err = s.Add(t); err != nil {
			content.CloseAll(ts[i:])
			break
		}
		e.hashes = append(e.hashes, t.InfoHash())
		log.Info("torrent published", "name", name, "info_hash", t.InfoHash().String(), "torrent", t.Path)
	}
	// A torrent added stays served, and withdrawn with the entry.
	e.served = len(e.hashes) > 0
	if err != nil {
		m.TorrentPrepared(false)
		log.Error("torrent skipped", "name", name, "err", err)
		e.failed = true
		return
	}
	m.TorrentPrepared(true)
}

// prepare finds or creates the torrents of one entry (a hybrid's v1-only
// twin second) and verifies them. The caller records the result in the
// metrics (TorrentPrepared).
func (c *Catalogue) prepare(ctx context.Context, name, sig string) ([]*content.Torrent, error) {
	c.cfg.Load.Metrics.TorrentsQueued(1)
	c.cfg.Load.Metrics.TorrentVerifying()
	if sig == "" {
		return nil, errors.New("no file")
	}
	return content.LoadEntry(ctx, c.cfg.Load, name)
}

// withdraw removes a served entry's torrents from s: a hybrid and its
// v1-only twin go together.
func (c *Catalogue) withdraw(s Seeder, name string, e *entry) {
	for _, h := range e.hashes {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RemoveTimeout)
		if err := s.Remove(ctx, h); err != nil {
			c.cfg.Load.Logger.Warn("torrent withdrawn with errors", "name", name, "info_hash", h.String(), "err", err)
		}
		cancel()
	}
	e.served, e.hashes = false, nil
}

// names lists the content folder's entries, without dot names.
func (c *Catalogue) names() ([]string, error) {
	des, err := os.ReadDir(c.cfg.Load.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	var names []string
	for _, d := range des {
		if !strings.HasPrefix(d.Name(), ".") {
			names = append(names, d.Name())
		}
	}
	return names, nil
}

// signature describes the files of the file or folder at path by their
// paths, sizes and modification times, and returns the newest of those
// times. An entry without files has the empty signature.
func signature(path string) (string, time.Time, error) {
	var (
		b      strings.Builder
		newest time.Time
	)
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		st, err := os.Stat(p) // links are followed, as Create follows them
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return nil
		}
		if st.ModTime().After(newest) {
			newest = st.ModTime()
		}
		b.WriteString(p)
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(st.Size(), 10))
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(st.ModTime().UnixNano(), 10))
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%s: %w", path, err)
	}
	return b.String(), newest, nil
}
