// Package memstore is the tracker's in-process swarm store: swarms in
// sharded maps, so announces for different torrents rarely contend, with
// O(1) add, remove and random sampling and an expiry that locks one shard at a
// time.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

// Config configures a Store. The zero value of a field means its default.
type Config struct {
	// PeerLifetime is how long a peer stays without announcing
	// (default 45m).
	PeerLifetime time.Duration
	// SwarmRetention is how long a swarm without peers keeps its download
	// count before it is forgotten (default 24h). A swarm that never
	// completed a download is forgotten as soon as it is empty.
	SwarmRetention time.Duration
	// Shards is the number of independently locked shards, rounded up to a
	// power of two (default 1024).
	Shards int
	// Now is the clock (default time.Now); tests move it by hand.
	Now func() time.Time
	// MaxTorrents caps the swarms kept (default 100,000): an announce
	// that would start one more is refused with tracker.ErrTrackerFull,
	// while known swarms are served as before.
	MaxTorrents int
	// MaxPeers caps the peers kept in all swarms (default 10,000,000,
	// about 1.1 GB): past it, a new peer still gets an answer but is not
	// stored until others expire.
	MaxPeers int
}

// Store is the in-memory swarm store. It satisfies tracker.Store.
type Store struct {
	shards    []shard
	mask      uint32
	lifetime  uint32 // seconds
	retention uint32 // seconds
	epoch     time.Time
	now       func() time.Time

	stop   chan struct{}
	done   chan struct{}
	closed sync.Once

	allow allowSet

	// Totals, kept as the maps change, so the caps cost no walk.
	maxTorrents, maxPeers int64
	torrents, peers       atomic.Int64
}

type shard struct {
	mu     sync.Mutex
	swarms map[tracker.InfoHash]*swarm
	_      [40]byte // keep neighbouring shards' locks off one cache line
}

var _ tracker.Store = (*Store)(nil)

// New returns a store and starts its expiry goroutine; Close stops it.
func New(cfg Config) (*Store, error) {
	if cfg.PeerLifetime == 0 {
		cfg.PeerLifetime = 45 * time.Minute
	}
	if cfg.SwarmRetention == 0 {
		cfg.SwarmRetention = 24 * time.Hour
	}
	if cfg.Shards == 0 {
		cfg.Shards = 1024
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxTorrents == 0 {
		cfg.MaxTorrents = 100_000
	}
	if cfg.MaxPeers == 0 {
		cfg.MaxPeers = 10_000_000
	}
	if cfg.MaxTorrents < 1 || cfg.MaxPeers < 1 {
		return nil, fmt.Errorf("memstore: max torrents %d and max peers %d: both must be at least 1", cfg.MaxTorrents, cfg.MaxPeers)
	}
	if cfg.PeerLifetime < time.Second {
		return nil, fmt.Errorf("memstore: peer lifetime %s: must be at least 1s", cfg.PeerLifetime)
	}
	if cfg.Shards < 1 || cfg.Shards > 1<<16 {
		return nil, fmt.Errorf("memstore: shards %d: must be between 1 and 65536", cfg.Shards)
	}
	n := 1
	for n < cfg.Shards {
		n <<= 1
	}
	s := &Store{
		maxTorrents: int64(cfg.MaxTorrents),
		maxPeers:    int64(cfg.MaxPeers),
		shards:      make([]shard, n),
		mask:        uint32(n - 1),
		lifetime:    uint32(cfg.PeerLifetime / time.Second),
		retention:   uint32(cfg.SwarmRetention / time.Second),
		now:         cfg.Now,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	// The epoch lies a lifetime in the past so that a cutoff
	// (now - lifetime) never wraps below zero.
	s.epoch = cfg.Now().Add(-cfg.PeerLifetime - time.Second)
	for i := range s.shards {
		s.shards[i].swarms = make(map[tracker.InfoHash]*swarm)
	}
	go s.janitor()
	return s, nil
}

func (s *Store) clock() uint32 {
	d := s.now().Sub(s.epoch)
	if d < 0 {
		return 0
	}
	return uint32(d / time.Second)
}

func (s *Store) shardOf(h tracker.InfoHash) *shard {
	// Info hashes are SHA-1 output, so any bytes are evenly spread.
	i := uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16
	return &s.shards[i&s.mask]
}

// sweepDue reports whether a touched swarm should drop its expired peers
// now; sweeping at most every quarter lifetime keeps the cost of an announce
// independent of swarm size while bounding a dead peer's stay to 1.25 ×
// lifetime.
func (s *Store) sweepDue(sw *swarm, now uint32) bool {
	return now < sw.lastSweep || now-sw.lastSweep >= max(s.lifetime/4, 1)
}

// cutoff is the last-seen time before which a peer has expired.
func (s *Store) cutoff(now uint32) uint32 {
	if now < s.lifetime {
		return 0
	}
	return now - s.lifetime
}

// Announce applies one announce under the lock of the torrent's shard.
func (s *Store) Announce(_ context.Context, a tracker.PeerAnnounce, out *tracker.SwarmAnswer) error {
	now := s.clock()
	key, is4 := makeKey(a.PeerID, a.Addr)
	sh := s.shardOf(a.InfoHash)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	sw := sh.swarms[a.InfoHash]
	if sw == nil {
		if a.Event == tracker.EventStopped {
			return nil
		}
		if s.torrents.Load() >= s.maxTorrents {
			return tracker.ErrTrackerFull
		}
		sw = newSwarm(now)
		sh.swarms[a.InfoHash] = sw
		s.torrents.Add(1)
	} else if s.sweepDue(sw, now) {
		s.peers.Add(-int64(sw.sweep(s.cutoff(now), now)))
	}
	sw.lastActive = now

	// Find the announcer's entry: by its address, or by peer ID and
	// family when it is tagged and at this address (see peer.tag).
	fam := 0
	if !is4 {
		fam = 1
	}
	var tag uint16
	if a.Key != 0 {
		tag = keyTag(a.Key)
	}
	var l loc
	var known bool
	if tag != 0 {
		l, known = sw.index[linkKey(a.PeerID, fam)]
		switch {
		case known && sw.at(l).key.addr == key.addr:
			if sw.at(l).tag != tag {
				sw.setTag(l, tag)
			}
		case known:
			// Another address of this family came first with this peer
			// ID: this one is a peer of its own, tied to no other.
			tag = 0
			l, known = sw.index[key]
		default:
			// The first with a key: an entry it made without one is
			// taken over.
			if l, known = sw.index[key]; known && a.Event != tracker.EventStopped {
				sw.retag(l, tag)
			} else if known {
				tag = 0
			}
		}
	} else {
		l, known = sw.index[key]
		if !known && sw.tagged[fam] > 0 {
			// A tagged entry whose client sends no key this time.
			if t, ok := sw.index[linkKey(a.PeerID, fam)]; ok && sw.at(t).key.addr == key.addr {
				l, known, tag = t, true, sw.at(t).tag
			}
		}
	}
	done := known && sw.at(l).done()
	twin := noLoc
	if tag != 0 && sw.tagged[1-fam] > 0 {
		if t, ok := sw.index[linkKey(a.PeerID, 1-fam)]; ok && sw.at(t).tag == tag {
			twin = t
			// What the peer finished over one family it finished.
			done = done || sw.at(t).done()
		}
	}
	if !done && (a.Event == tracker.EventCompleted || known && a.Seeder) {
		sw.downloaded++
		out.Finished = true
		done = true
	}
	if done && twin != noLoc {
		// The other half's place does not move with this family's lists.
		p := sw.at(twin)
		p.mark(p.lastSeen(), true)
	}
	if a.Event == tracker.EventStopped {
		if known {
			sw.remove(l)
			s.peers.Add(-1)
		}
		s.fill(sw, out)
		if sw.empty() && sw.downloaded == 0 {
			delete(sh.swarms, a.InfoHash)
			s.torrents.Add(-1)
		}
		return nil
	}
	want := listFor(is4, a.Seeder)
	switch {
	case !known && s.peers.Load() >= s.maxPeers:
		// Full: answer without storing, and skip no one.
		l = noLoc
	case !known:
		l = sw.add(want, key, tag, now, done)
		s.peers.Add(1)
	case l.list() != want:
		sw.remove(l)
		l = sw.add(want, key, tag, now, done)
	default:
		sw.at(l).mark(now, done)
	}

	s.fill(sw, out)
	size := 18
	seeders, leechers := seeders6, leechers6
	if is4 {
		size, seeders, leechers = 6, seeders4, leechers4
	}
	if a.Seeder {
		sw.sample(leechers, -1, l, a.NumWant, size, out, a.WantPeerIDs)
	} else {
		sw.sample(seeders, leechers, l, a.NumWant, size, out, a.WantPeerIDs)
	}
	return nil
}

func (s *Store) fill(sw *swarm, out *tracker.SwarmAnswer) {
	out.Seeders = sw.seeders()
	out.Leechers = sw.leechers()
	out.Downloaded = sw.downloaded
}

// Scrape reads the counts of each torrent under its shard's lock.
func (s *Store) Scrape(_ context.Context, hashes []tracker.InfoHash, out []tracker.ScrapeStats) error {
	if len(out) != len(hashes) {
		return fmt.Errorf("memstore: scrape of %d hashes into %d results", len(hashes), len(out))
	}
	for i, h := range hashes {
		sh := s.shardOf(h)
		sh.mu.Lock()
		if sw := sh.swarms[h]; sw != nil {
			out[i] = tracker.ScrapeStats{Seeders: sw.seeders(), Leechers: sw.leechers(), Downloaded: sw.downloaded}
		} else {
			out[i] = tracker.ScrapeStats{}
		}
		sh.mu.Unlock()
	}
	return nil
}

// FullScrape calls fn for up to max torrents, locking one shard at a time.
// fn runs outside the locks.
func (s *Store) FullScrape(ctx context.Context, limit int, fn func(tracker.InfoHash, tracker.ScrapeStats)) error {
	type row struct {
		h  tracker.InfoHash
		st tracker.ScrapeStats
	}
	var rows []row
	for i := range s.shards {
		if len(rows) >= limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memstore: full scrape: %w", err)
		}
		sh := &s.shards[i]
		rows = rows[:0]
		sh.mu.Lock()
		for h, sw := range sh.swarms {
			if sw.empty() {
				continue
			}
			rows = append(rows, row{h, tracker.ScrapeStats{Seeders: sw.seeders(), Leechers: sw.leechers(), Downloaded: sw.downloaded}})
			if len(rows) >= limit {
				break
			}
		}
		sh.mu.Unlock()
		for _, r := range rows {
			fn(r.h, r.st)
		}
		limit -= len(rows)
		rows = rows[:0]
	}
	return nil
}

// Ping always succeeds unless the store is closed.
func (s *Store) Ping(context.Context) error {
	select {
	case <-s.stop:
		return errors.New("memstore: closed")
	default:
		return nil
	}
}

// Close stops the expiry goroutine.
func (s *Store) Close() error {
	s.closed.Do(func() {
		close(s.stop)
		<-s.done
	})
	return nil
}

// Counts are the store's totals.
type Counts struct {
	Torrents int
	// Peers is indexed by list: IPv4 seeders, IPv4 leechers, IPv6 seeders,
	// IPv6 leechers. A dual-stack peer has an entry in a list of each
	// family.
	Peers [numLists]int
	// Pairs counts the dual-stack peers by the roles of their halves
	// (IPv4 then IPv6: seeder-seeder, seeder-leecher, leecher-seeder,
	// leecher-leecher).
	Pairs [numPairs]int
}

// Seeders returns the seeders, each dual-stack one once.
func (c Counts) Seeders() int { return c.Peers[seeders4] + c.Peers[seeders6] - c.Pairs[pairSS] }

// Leechers returns the leechers, each dual-stack one once.
func (c Counts) Leechers() int {
	return c.Peers[leechers4] + c.Peers[leechers6] - c.Pairs[pairSL] - c.Pairs[pairLS] - c.Pairs[pairLL]
}

// Totals splits the counts into peers of one family and dual-stack peers,
// each peer once.
func (c Counts) Totals() tracker.Totals {
	p := c.Pairs
	return tracker.Totals{
		Torrents:     c.Torrents,
		Seeders4:     c.Peers[seeders4] - p[pairSS] - p[pairSL],
		Leechers4:    c.Peers[leechers4] - p[pairLS] - p[pairLL],
		Seeders6:     c.Peers[seeders6] - p[pairSS] - p[pairLS],
		Leechers6:    c.Peers[leechers6] - p[pairSL] - p[pairLL],
		SeedersBoth:  p[pairSS] + p[pairSL] + p[pairLS],
		LeechersBoth: p[pairLL],
	}
}

// Counts walks the shards one at a time and adds up torrents (with peers)
// and peers. It costs one step per torrent, not per peer.
func (s *Store) Counts() Counts {
	var c Counts
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, sw := range sh.swarms {
			if !sw.empty() {
				c.Torrents++
			}
			for l := range sw.lists {
				c.Peers[l] += len(sw.lists[l])
			}
			for k, n := range sw.pairs {
				c.Pairs[k] += n
			}
		}
		sh.mu.Unlock()
	}
	return c
}

// janitor expires peers of swarms nobody announces to, one shard at a time
// so that no announce waits for more than one shard's sweep.
func (s *Store) janitor() {
	defer close(s.done)
	period := time.Duration(max(s.lifetime/4, 1)) * time.Second
	period = min(period, time.Minute)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		for i := range s.shards {
			select {
			case <-s.stop:
				return
			default:
			}
			s.sweepShard(&s.shards[i])
		}
	}
}

// SweepAll expires peers and forgets empty swarms in every shard now. The
// janitor does this by itself; tests call it to avoid waiting.
func (s *Store) SweepAll() {
	for i := range s.shards {
		s.sweepShard(&s.shards[i])
	}
}

func (s *Store) sweepShard(sh *shard) {
	now := s.clock()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for h, sw := range sh.swarms {
		if s.sweepDue(sw, now) {
			s.peers.Add(-int64(sw.sweep(s.cutoff(now), now)))
		}
		if sw.empty() && (sw.downloaded == 0 || now-sw.lastActive > s.retention) {
			delete(sh.swarms, h)
			s.torrents.Add(-1)
		}
	}
}

// Totals returns the store's totals (see Counts) as the conformance suite
// reads them from every store.
func (s *Store) Totals(context.Context) (tracker.Totals, error) {
	return s.Counts().Totals(), nil
}

// SweepExpired is SweepAll, as the conformance suite calls it on every
// store.
func (s *Store) SweepExpired(context.Context) error {
	s.SweepAll()
	return nil
}
