// Package redisstore keeps the tracker's swarms in Redis, so that many
// tracker replicas share one view of every swarm. One announce is one round
// trip (a Lua script run by SHA); every key of a swarm shares a hash tag, so
// the store works the same on Redis Cluster. The scripts also keep the
// totals of peers and torrents per shard (see totals.go), which every
// replica exports.
package redisstore

import (
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitorigin/bitorigin/tracker"
)

var (
	//go:embed settle.lua
	settleSrc string
	//go:embed announce.lua
	announceSrc string
	//go:embed sweep.lua
	sweepSrc string
)

// Both scripts end by settling the swarm's share of the totals.
var (
	announceScript = redis.NewScript(settleSrc + announceSrc)
	sweepScript    = redis.NewScript(settleSrc + sweepSrc)
)

// Config configures a Store. The zero value of a field means its default.
type Config struct {
	// Client is the connection to Redis: one server, Sentinel or Cluster
	// (see NewClient). The store closes it on Close.
	Client redis.UniversalClient
	// Prefix starts every key (default "bt").
	Prefix string
	// PeerLifetime is how long a peer stays without announcing
	// (default 45m).
	PeerLifetime time.Duration
	// SwarmRetention is how long a swarm's download count outlives its last
	// announce (default 24h).
	SwarmRetention time.Duration
	// Now is the clock (default time.Now). Replicas should run NTP: a peer's
	// last-seen time is the clock of the replica it announced to.
	Now func() time.Time
	// Pipelines is how many batches of announces and scrapes may be on
	// the wire at once (default 2: one in Redis while the next is written
	// or its replies read; more only split the load into smaller batches,
	// each costing both sides a write and a read); BatchSize caps one
	// batch (default 64).
	Pipelines int
	BatchSize int
	// MaxQueued bounds the announces and scrapes waiting for a batch
	// (default 8 × Pipelines × BatchSize); when it is full, they fail at
	// once.
	MaxQueued int
	// Timeout bounds one announce, scrape or ping from the call to the
	// answer, waiting in the queue included (default 250ms): when Redis is
	// down or slow, requests fail within it instead of piling up. Give the
	// client (ClientConfig.Timeout) the same value.
	Timeout time.Duration
	// SweepEvery is how often expired peers of swarms nobody announces to
	// are dropped from Redis and from the totals (default a quarter of
	// PeerLifetime, between 1s and 1m). Every replica tries; one sweeps
	// per period.
	SweepEvery time.Duration
	// Logger receives sweep failures (default: discard).
	Logger *slog.Logger
	// SampleUses is how many answers to a busy swarm (64 peers or more,
	// 16 announces within SampleAge to this replica) this replica takes
	// from one sample of its peers before it draws a new one
	// from Redis (default 64; -1 draws every answer in Redis), and
	// SampleAge how long a sample serves at most (default 5s). See
	// sample.go: counts are always exact; which peers an answer names may
	// lag by that much.
	SampleUses int
	SampleAge  time.Duration
}

// Store is the Redis swarm store. It satisfies tracker.Store.
type Store struct {
	c         redis.UniversalClient
	batch     *batcher
	prefix    string
	lifetime  time.Duration
	retention time.Duration
	timeout   time.Duration
	now       func() time.Time
	shards    shards
	log       *slog.Logger
	// samples are this replica's samples of large swarms (nil: off);
	// answers counts answers with peers by answerSources.
	samples *samples
	answers [3]atomic.Uint64

	stopSweep chan struct{}
	sweepDone chan struct{}
	sweepOnce sync.Once
}

var _ tracker.Store = (*Store)(nil)

// New returns a store on cfg.Client. It does not contact Redis: readiness
// probes (Ping) tell whether Redis answers.
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisstore: no client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "bt"
	}
	if cfg.PeerLifetime == 0 {
		cfg.PeerLifetime = 45 * time.Minute
	}
	if cfg.SwarmRetention == 0 {
		cfg.SwarmRetention = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PeerLifetime < time.Second {
		return nil, fmt.Errorf("redisstore: peer lifetime %s: must be at least 1s", cfg.PeerLifetime)
	}
	if cfg.SwarmRetention < time.Second {
		return nil, fmt.Errorf("redisstore: swarm retention %s: must be at least 1s", cfg.SwarmRetention)
	}
	if cfg.Pipelines == 0 {
		cfg.Pipelines = 2
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 64
	}
	if cfg.Pipelines < 1 || cfg.BatchSize < 1 {
		return nil, fmt.Errorf("redisstore: pipelines %d and batch size %d: both must be at least 1", cfg.Pipelines, cfg.BatchSize)
	}
	if cfg.MaxQueued == 0 {
		cfg.MaxQueued = 8 * cfg.Pipelines * cfg.BatchSize
	}
	if cfg.MaxQueued < 1 {
		return nil, fmt.Errorf("redisstore: max queued %d: must be at least 1", cfg.MaxQueued)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Timeout < time.Millisecond {
		return nil, fmt.Errorf("redisstore: timeout %s: must be at least 1ms", cfg.Timeout)
	}
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = min(max(cfg.PeerLifetime/4, time.Second), time.Minute)
	}
	if cfg.SweepEvery < 10*time.Millisecond {
		return nil, fmt.Errorf("redisstore: sweep period %s: must be at least 10ms", cfg.SweepEvery)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SampleUses == 0 {
		cfg.SampleUses = 64
	}
	if cfg.SampleAge == 0 {
		cfg.SampleAge = 5 * time.Second
	}
	if cfg.SampleUses < -1 || cfg.SampleAge < 0 {
		return nil, fmt.Errorf("redisstore: sample uses %d and age %s: uses must be -1 (off) or more, age positive", cfg.SampleUses, cfg.SampleAge)
	}
	var samp *samples
	if cfg.SampleUses > 0 {
		samp = newSamples(cfg.SampleUses, cfg.SampleAge, cfg.Timeout)
	}
	_, cluster := cfg.Client.(*redis.ClusterClient)
	s := &Store{
		c:         cfg.Client,
		batch:     newBatcher(cfg.Client, cfg.Pipelines, cfg.BatchSize, cfg.MaxQueued),
		prefix:    cfg.Prefix,
		lifetime:  cfg.PeerLifetime,
		retention: cfg.SwarmRetention,
		timeout:   cfg.Timeout,
		now:       cfg.Now,
		shards:    newShards(cfg.Prefix, cluster),
		log:       cfg.Logger,
		samples:   samp,
		stopSweep: make(chan struct{}),
		sweepDone: make(chan struct{}),
	}
	go s.sweeper(cfg.SweepEvery)
	return s, nil
}

// keys returns the swarm's keys for the announce script: IPv4 seeders,
// IPv4 leechers, IPv6 seeders, IPv6 leechers, downloads, counted (its share
// of the totals); then its shard's totals and index; then its done
// leechers and its dual-stack pairs (see announce.lua); then, when ident is
// 0 or more, its identity hash number ident (identityKey). The hex info
// hash in braces is the Cluster hash tag of the swarm's keys; the shard's
// are in the same slot (see shards). The hex info hash is returned too: it
// names the swarm in the shard's index. The keys are cut from one string:
// one allocation instead of one per key, on every announce.
func (s *Store) keys(h tracker.InfoHash, ident int) ([]string, string) {
	var hx [40]byte
	hex.Encode(hx[:], h[:])
	shard := s.shards.of(hx[:])
	var b strings.Builder
	b.Grow(11*(len(s.prefix)+46) + 2*len(shard) + 2)
	var ends [11]int
	n := 0
	add := func(shared bool, suffix string) {
		if shared {
			b.WriteString(shard)
		} else {
			b.WriteString(s.prefix)
			b.WriteString(":{")
			b.Write(hx[:])
			b.WriteString("}:")
		}
		b.WriteString(suffix)
		ends[n] = b.Len()
		n++
	}
	for _, k := range swarmKeys {
		add(k.shared, k.suffix)
	}
	if ident >= 0 {
		add(false, identitySuffixes[ident%identityShards])
	}
	all := b.String()
	keys := make([]string, n, 11)
	from := 0
	for i := range n {
		keys[i], from = all[from:ends[i]], ends[i]
	}
	id := all[len(s.prefix)+2 : len(s.prefix)+2+len(hx)]
	return keys, id
}

// swarmKeys are the suffixes of keys' keys, in order; shared ones are the
// shard's.
var swarmKeys = [...]struct {
	shared bool
	suffix string
}{{false, "s4"}, {false, "l4"}, {false, "s6"}, {false, "l6"}, {false, "d"}, {false, "c"}, {true, "n"}, {true, "x"}, {false, "f"}, {false, "p"}}

var identitySuffixes = func() (s [identityShards]string) {
	for i := range s {
		s[i] = "h" + strconv.Itoa(i)
	}
	return s
}()

// identityShards is how many hashes hold a swarm's identities (see
// announce.lua), chosen by the last byte of the peer ID.
const identityShards = 8

// identityOf is the number of the hash of a swarm's identities that holds
// peer ID id's (see keys).
func identityOf(id tracker.PeerID) int {
	return int(id[len(id)-1]) % identityShards
}

// identityKeyN is the swarm's identity hash number n, given its keys.
func identityKeyN(keys []string, n int) string {
	base := keys[0][:len(keys[0])-len("s4")]
	return base + identitySuffixes[n]
}

// member encodes a peer as its compact address followed by its peer ID.
func member(id tracker.PeerID, a tracker.PeerAnnounce) (string, bool) {
	addr := a.Addr.Addr().Unmap()
	var b []byte
	v6 := !addr.Is4()
	if v6 {
		b16 := addr.As16()
		b = append(make([]byte, 0, 38), b16[:]...)
	} else {
		b4 := addr.As4()
		b = append(make([]byte, 0, 26), b4[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, a.Addr.Port())
	b = append(b, id[:]...)
	return string(b), v6
}

// identity is the peer ID and key of a peer that sent a key, which ties
// its IPv4 and IPv6 members into one peer (see announce.lua); empty
// without a key.
func identity(a tracker.PeerAnnounce) string {
	if a.Key == 0 {
		return ""
	}
	var b [24]byte
	copy(b[:], a.PeerID[:])
	binary.BigEndian.PutUint32(b[20:], a.Key)
	return string(b[:])
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// Announce applies one announce with one EVALSHA, pipelined with the
// announces that arrive meanwhile. It returns within the store's timeout
// (or by ctx's deadline, if sooner).
func (s *Store) Announce(ctx context.Context, a tracker.PeerAnnounce, out *tracker.SwarmAnswer) error {
	m, v6 := member(a.PeerID, a)
	now := s.now()
	keys, id := s.keys(a.InfoHash, identityOf(a.PeerID))
	sk := sampleKey{a.InfoHash, v6}
	mode, sampledS, sampledL, token := s.samples.plan(sk, now, a)
	res, err := s.batch.do(ctx, time.Now().Add(s.timeout), keys, []any{
		m, flag(v6), flag(a.Seeder), a.Event.String(),
		millis(now), millis(now.Add(-s.lifetime)), a.NumWant,
		s.lifetime.Milliseconds(), s.retention.Milliseconds(), id, identity(a),
		rand.Uint64() >> 12, // where the script starts drawing peers: below 2^52, exact in Lua's numbers
		mode,
	})
	if err != nil {
		return fmt.Errorf("redis announce: %w", err)
	}
	if len(res) != 10 {
		return fmt.Errorf("redis announce: script returned %d values, want 10", len(res))
	}
	var n [8]int64
	var drawn [2]string
	ok := true
	for i, j := range []int{0, 1, 2, 3, 4, 6, 8, 9} {
		var good bool
		n[i], good = res[j].(int64)
		ok = ok && good
	}
	for i, j := range []int{5, 7} {
		var good bool
		drawn[i], good = res[j].(string)
		ok = ok && good
	}
	if !ok {
		return fmt.Errorf("redis announce: unexpected reply types %T %T %T %T %T %T %T %T %T %T", res[0], res[1], res[2], res[3], res[4], res[5], res[6], res[7], res[8], res[9])
	}
	out.Seeders, out.Leechers, out.Downloaded = int(n[0]), int(n[1]), int(n[2])
	out.Finished = n[3] == 1
	size := memberSize(v6) - 20 // the compact address
	cs, cl := int(n[6]), int(n[7])
	sampled := mode > 0
	if sampled {
		sampledS, sampledL = drawn[0], drawn[1]
		if len(sampledS)%(size+20) != 0 || len(sampledL)%(size+20) != 0 {
			return fmt.Errorf("redis announce: sampled peers of %d and %d bytes are not %d-byte members", len(sampledS), len(sampledL), size+20)
		}
	}
	stopped := ""
	if a.Event == tracker.EventStopped {
		stopped = m
	}
	s.samples.record(sk, now, cs, cl, stopped, sampled, sampledS, sampledL, token)
	switch {
	case a.Event == tracker.EventStopped || a.NumWant <= 0:
	case mode == drawAnswer:
		s.answers[0].Add(1)
	case mode == drawNone:
		s.answers[1].Add(1)
	default:
		s.answers[2].Add(1)
	}
	if mode != drawAnswer {
		pick(out, sampledS, sampledL, size, m, a.Seeder, a.NumWant, cs, cl, a.WantPeerIDs, rand.IntN)
		return nil
	}
	for i := range drawn {
		if err := cut(out, drawn[i], int(n[4+i]), size, m, a.WantPeerIDs); err != nil {
			return fmt.Errorf("redis announce: %w", err)
		}
	}
	return nil
}

// cut appends up to n of the members joined in drawn (each a compact
// address of size bytes and a 20-byte peer ID) to out, skipping self: the
// script reads one member more than it needs in case the announcer is
// among them.
func cut(out *tracker.SwarmAnswer, drawn string, n, size int, self string, wantIDs bool) error {
	entry := size + 20
	if len(drawn)%entry != 0 {
		return fmt.Errorf("drawn peers of %d bytes are not %d-byte members", len(drawn), entry)
	}
	for i := 0; i < len(drawn) && n > 0; i += entry {
		m := drawn[i : i+entry]
		if m == self {
			continue
		}
		out.Peers = append(out.Peers, m[:size]...)
		if wantIDs {
			out.PeerIDs = append(out.PeerIDs, m[size:]...)
		}
		n--
	}
	return nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Scrape counts each torrent's live peers with commands that go out in the
// announces' next batch (on Cluster, go-redis splits it by master and sends
// the parts in parallel): a scrape shares their round trip instead of
// costing the tracker and Redis one of its own.
func (s *Store) Scrape(ctx context.Context, hashes []tracker.InfoHash, out []tracker.ScrapeStats) error {
	if len(out) != len(hashes) {
		return fmt.Errorf("redisstore: scrape of %d hashes into %d results", len(hashes), len(out))
	}
	if len(hashes) == 0 {
		return nil
	}
	cut := millis(s.now().Add(-s.lifetime))
	cutoff := "(" + strconv.FormatInt(cut, 10)
	type pending struct {
		counts [4]*redis.IntCmd
		pairs  [4]*redis.IntCmd
		d      *redis.StringCmd
	}
	cmds := make([]pending, len(hashes))
	all := make([]redis.Cmder, 0, 9*len(hashes))
	for i, h := range hashes {
		ks, _ := s.keys(h, -1)
		for j := range 4 {
			cmds[i].counts[j] = redis.NewIntCmd(ctx, "zcount", ks[j], cutoff, "+inf")
			// The swarm's live dual-stack pairs of class j (see
			// announce.lua).
			cmds[i].pairs[j] = redis.NewIntCmd(ctx, "zcount", ks[9], strconv.FormatInt(int64(j)<<44+cut, 10), "("+strconv.FormatInt(int64(j+1)<<44, 10))
			all = append(all, cmds[i].counts[j], cmds[i].pairs[j])
		}
		cmds[i].d = redis.NewStringCmd(ctx, "get", ks[4])
		all = append(all, cmds[i].d)
	}
	if err := s.batch.send(ctx, time.Now().Add(s.timeout), all); err != nil {
		return fmt.Errorf("redis scrape: %w", err)
	}
	// Every command is checked, not only the first to fail: a missing
	// download counter (redis.Nil) would hide a real failure behind it,
	// and on Cluster a node that fails would leave its torrents at zero.
	// redis.Nil is zero, anything else fails the scrape.
	for i, h := range hashes {
		var n, pc [4]int64
		for j, c := range cmds[i].counts {
			var err error
			if n[j], err = c.Result(); err != nil {
				return fmt.Errorf("redis scrape of %s: count %s: %w", h, c.Args()[1], err)
			}
			if pc[j], err = cmds[i].pairs[j].Result(); err != nil {
				return fmt.Errorf("redis scrape of %s: count pairs: %w", h, err)
			}
		}
		d, err := cmds[i].d.Int()
		if errors.Is(err, redis.Nil) {
			d, err = 0, nil
		}
		if err != nil {
			return fmt.Errorf("redis scrape of %s: download count: %w", h, err)
		}
		// A dual-stack pair is one seeder when both halves seed, else
		// one leecher.
		out[i] = tracker.ScrapeStats{Seeders: int(n[0] + n[2] - pc[0]), Leechers: int(n[1] + n[3] - pc[1] - pc[2] - pc[3]), Downloaded: d}
	}
	return nil
}

// ErrNoFullScrape is the answer to a full scrape: listing every swarm would
// mean walking the whole keyspace, which no replica ever does.
const ErrNoFullScrape tracker.Failure = "full scrape is not available with the Redis store"

// FullScrape is refused; see ErrNoFullScrape.
func (s *Store) FullScrape(context.Context, int, func(tracker.InfoHash, tracker.ScrapeStats)) error {
	return ErrNoFullScrape
}

// Ping asks Redis for a PONG.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Close stops the sweep, answers queued announces with an error and closes
// the Redis client.
func (s *Store) Close() error {
	s.closeSweep()
	s.batch.close()
	if err := s.c.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}
