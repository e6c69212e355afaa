package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"
)

// Config is the tracker's swarm policy. The zero value of a field means its
// default.
type Config struct {
	// Interval is how often clients should announce (default 30m).
	Interval time.Duration
	// MinInterval is the shortest announce interval clients may use
	// (default 10m, never more than Interval).
	MinInterval time.Duration
	// Jitter is the fraction of Interval by which the announced interval
	// varies at random, so that clients that started together do not
	// announce in lock-step (default 0.05; negative for none).
	Jitter float64
	// NumWantDefault is the number of peers sent when a client does not ask
	// (default 50); NumWantMax caps what a client may ask for (default 200).
	NumWantDefault int
	NumWantMax     int
	// ScrapeMax caps the info hashes of one scrape (default 100).
	ScrapeMax int
	// FullScrape allows a scrape without info_hash to list every torrent.
	FullScrape bool
	// FullScrapeMax caps the torrents a full scrape lists (default 10000).
	FullScrapeMax int
	// Logger receives store failures, once per burst (default: discard).
	Logger *slog.Logger
	// Metrics records store latency, store errors and downloads; nil
	// records nothing.
	Metrics *Metrics
	// Aliases names the swarm of a hybrid torrent's other info hash (the
	// registry); nil: every info hash is a swarm of its own.
	Aliases Aliases
}

// Allower decides which torrents the tracker serves. A nil Allower allows
// every torrent.
type Allower interface {
	Allowed(InfoHash) bool
}

func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = 30 * time.Minute
	}
	if c.MinInterval == 0 {
		c.MinInterval = min(10*time.Minute, c.Interval)
	}
	if c.Jitter == 0 {
		c.Jitter = 0.05
	}
	if c.Jitter < 0 {
		c.Jitter = 0
	}
	if c.NumWantDefault == 0 {
		c.NumWantDefault = 50
	}
	if c.NumWantMax == 0 {
		c.NumWantMax = 200
	}
	if c.ScrapeMax == 0 {
		c.ScrapeMax = 100
	}
	if c.FullScrapeMax == 0 {
		c.FullScrapeMax = 10000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("interval %s: must be at least 1s", c.Interval))
	}
	if c.MinInterval < 0 || c.MinInterval > c.Interval {
		errs = append(errs, fmt.Errorf("min interval %s: must be between 0 and the interval (%s)", c.MinInterval, c.Interval))
	}
	if c.Jitter >= 0.5 {
		errs = append(errs, fmt.Errorf("jitter %g: must be below 0.5", c.Jitter))
	}
	if c.NumWantDefault < 0 || c.NumWantMax < 0 || c.NumWantDefault > c.NumWantMax {
		errs = append(errs, fmt.Errorf("numwant default %d and max %d: need 0 <= default <= max", c.NumWantDefault, c.NumWantMax))
	}
	if c.ScrapeMax < 1 {
		errs = append(errs, fmt.Errorf("scrape max %d: must be at least 1", c.ScrapeMax))
	}
	return errors.Join(errs...)
}

// Tracker applies the swarm policy to announces and scrapes.
type Tracker struct {
	cfg    Config
	store  Store
	allow  Allower
	faults *faultLog
}

// New returns a tracker over store. allow may be nil to serve every torrent.
func New(cfg Config, store Store, allow Allower) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tracker config: %w", err)
	}
	if store == nil {
		return nil, errors.New("tracker config: no store")
	}
	cfg = cfg.withDefaults()
	return &Tracker{cfg: cfg, store: store, allow: allow, faults: &faultLog{log: cfg.Logger}}, nil
}

// Config returns the configuration in force, with defaults filled in.
func (t *Tracker) Config() Config { return t.cfg }

// Store returns the tracker's swarm store.
func (t *Tracker) Store() Store { return t.store }

// Announce applies req and fills resp, which the caller has Reset. A Failure
// is meant for the client; any other error is internal.
func (t *Tracker) Announce(ctx context.Context, req *AnnounceRequest, resp *AnnounceResponse) error {
	if t.allow != nil && !t.allow.Allowed(req.InfoHash) {
		return ErrUnknownTorrent
	}
	swarm := t.swarmOf(req.InfoHash)
	numWant := req.NumWant
	if numWant < 0 {
		numWant = t.cfg.NumWantDefault
	}
	numWant = min(numWant, t.cfg.NumWantMax)
	if req.Event == EventStopped {
		numWant = 0
	}
	pa := PeerAnnounce{
		InfoHash:    swarm,
		PeerID:      req.PeerID,
		Addr:        req.Addr,
		Key:         req.Key,
		Event:       req.Event,
		Seeder:      req.Left == 0,
		NumWant:     numWant,
		WantPeerIDs: req.WantPeerIDs,
	}
	start := time.Now()
	err := t.store.Announce(ctx, pa, &resp.Swarm)
	t.cfg.Metrics.store(opAnnounce, time.Since(start), err)
	if err != nil {
		t.faults.fail("announce", err)
		return fmt.Errorf("store announce %s: %w", swarm, err)
	}
	t.faults.ok()
	if resp.Swarm.Finished {
		t.cfg.Metrics.download()
	}
	resp.IntervalSeconds = t.interval()
	resp.MinIntervalSeconds = int(t.cfg.MinInterval / time.Second)
	return nil
}

// swarmOf returns the info hash h's swarm is kept under: h itself, or
// the registered info hash h is the alias of (see Aliases).
func (t *Tracker) swarmOf(h InfoHash) InfoHash {
	if t.cfg.Aliases != nil {
		if c, ok := t.cfg.Aliases.Canonical(h); ok {
			return c
		}
	}
	return h
}

// interval returns the announce interval with random jitter, never below
// the minimum interval.
func (t *Tracker) interval() int {
	iv := t.cfg.Interval
	if j := time.Duration(float64(iv) * t.cfg.Jitter); j > 0 {
		iv += time.Duration(rand.Int64N(int64(2*j)+1)) - j
	}
	iv = max(iv, t.cfg.MinInterval)
	return int(iv / time.Second)
}

// Scrape fills out[i] with the counts of hashes[i]. len(out) must equal
// len(hashes). An alias gets the counts of its torrent's swarm.
func (t *Tracker) Scrape(ctx context.Context, hashes []InfoHash, out []ScrapeStats) error {
	if len(hashes) > t.cfg.ScrapeMax {
		return ErrTooManyInfoHash
	}
	if t.allow != nil {
		for _, h := range hashes {
			if !t.allow.Allowed(h) {
				return ErrUnknownTorrent
			}
		}
	}
	// The caller's hashes key its answer, so aliases are resolved in a
	// copy, made only when a scrape names one.
	swarms, copied := hashes, false
	for i, h := range hashes {
		if c := t.swarmOf(h); c != h {
			if !copied {
				swarms, copied = slices.Clone(hashes), true
			}
			swarms[i] = c
		}
	}
	start := time.Now()
	err := t.store.Scrape(ctx, swarms, out)
	t.cfg.Metrics.store(opScrape, time.Since(start), err)
	if err != nil {
		t.faults.fail("scrape", err)
		return fmt.Errorf("store scrape of %d torrents: %w", len(hashes), err)
	}
	t.faults.ok()
	return nil
}

// FullScrape calls fn for every torrent the store knows, up to the
// configured cap, when full scrape is on. With an allow list it lists only
// allowed torrents.
func (t *Tracker) FullScrape(ctx context.Context, fn func(InfoHash, ScrapeStats)) error {
	if !t.cfg.FullScrape {
		return ErrFullScrapeOff
	}
	err := t.store.FullScrape(ctx, t.cfg.FullScrapeMax, func(h InfoHash, s ScrapeStats) {
		if t.allow == nil || t.allow.Allowed(h) {
			fn(h, s)
		}
	})
	if err != nil {
		return fmt.Errorf("store full scrape: %w", err)
	}
	return nil
}
