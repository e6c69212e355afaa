package redisstore

import (
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

// A replica answers announces to large swarms from its own sample of the
// swarm's peer lists instead of drawing every answer in Redis: drawing was
// half of what the announce script cost inside Redis (reading the members,
// turning each into a Lua string, joining them), and an answer to a large
// swarm is a random subset of it anyway. The script still applies every
// announce and returns the swarm's counts, so counts, downloads and expiry
// are exactly as before; only which peers an answer names may lag:
//
//   - only swarms whose lists hold at least sampleFloor peers of the
//     announcer's family are sampled; smaller ones are drawn in Redis on
//     every announce, so a seeder that has just joined a small swarm is
//     handed out at once;
//   - a sample is drawn again after Uses answers or Age, whichever is first,
//     or when it could not give an answer as many peers as Redis would (the
//     swarm has grown past it), and after a stop through this replica, so a
//     newcomer (or a peer that left through another replica) shows in the
//     answers within that bound;
//   - a sample holds up to sampleSize members of each list, read the same
//     way as an answer (windows around a random rotation), and each answer
//     takes its peers from it at random, so announcers still get different
//     answers;
//   - only hot swarms are sampled: those this replica saw sampleHot
//     announces to within one Age. A sample reads up to ten times the
//     members of one answer, so it must serve about that many to pay, and
//     a replica keeps samples only of swarms busy enough to use them: a
//     large swarm whose peers announce every half hour is drawn in Redis as
//     before (with 30-minute intervals, sampleHot in 5 s is a swarm of about
//     5,800 peers announcing to one replica).
type samples struct {
	uses   int
	age    time.Duration
	shards [sampleShards]sampleShard
}

const (
	// sampleFloor is the smallest swarm (peers of one family) a replica
	// samples: below it answers hold most of the swarm, and a missing
	// newcomer would be noticed.
	sampleFloor = 64
	// sampleSize is how many members of each list a sample holds: enough
	// for the largest numwant clients ask (200, libtorrent's default) with
	// room left for answers to differ.
	sampleSize = 256
	// sampleHot is how many announces to a swarm within one age make it
	// worth sampling.
	sampleHot = 16
	// samplePrune is how long an unused sample is kept, in ages.
	samplePrune  = 4
	sampleShards = 64
)

type sampleShard struct {
	mu sync.Mutex
	m  map[sampleKey]*sampleEntry
}

// sampleKey names one family of one swarm: each family has its own lists.
type sampleKey struct {
	h  tracker.InfoHash
	v6 bool
}

type sampleEntry struct {
	// seeders and leechers are the sample's members joined (compact
	// address and peer ID each); taken is when it was drawn, zero for none.
	seeders, leechers string
	taken             time.Time
	used              int
	// cs and cl are the family's list sizes in the latest answer;
	// touched is when the entry last served.
	cs, cl  int
	touched time.Time
	// The announces planned in the age that started at window, and in
	// the one before it: how hot the swarm is.
	window         time.Time
	counted, prior int
}

// count counts one announce planned at now and tells whether the swarm is
// hot: sampleHot announces in this age or the one before.
func (e *sampleEntry) count(now time.Time, age time.Duration) bool {
	if d := now.Sub(e.window); d >= age || d < 0 {
		e.prior = 0
		if d < 2*age && d >= 0 {
			e.prior = e.counted
		}
		e.window, e.counted = now, 0
	}
	e.counted++
	return max(e.counted, e.prior) >= sampleHot
}

func newSamples(uses int, age time.Duration) *samples {
	s := &samples{uses: uses, age: age}
	for i := range s.shards {
		s.shards[i].m = map[sampleKey]*sampleEntry{}
	}
	return s
}

func (s *samples) shard(k sampleKey) *sampleShard {
	return &s.shards[int(k.h[0])%sampleShards]
}

// answerSources label the answers counted in Store.answers, by index:
// drawn in Redis, from the sample, from a new sample.
var answerSources = [3]string{"redis", "sample", "new_sample"}

// Sample modes, the announce script's last argument.
const (
	drawAnswer = 0  // the script draws the answer
	drawNone   = -1 // the answer comes from the sample the plan returns
)

// plan tells an announce how to get its peers: drawNone with the sample to
// answer from, drawAnswer, or a sample size for the script to draw a new
// sample. s may be nil (sampling off).
func (s *samples) plan(k sampleKey, now time.Time, a tracker.PeerAnnounce) (mode int, seeders, leechers string) {
	if s == nil || a.Event == tracker.EventStopped || a.NumWant <= 0 {
		return drawAnswer, "", ""
	}
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[k]
	if e == nil || a.NumWant >= sampleSize {
		return drawAnswer, "", ""
	}
	if !e.count(now, s.age) {
		// A swarm that has cooled keeps no members in memory.
		e.seeders, e.leechers, e.taken = "", "", time.Time{}
		return drawAnswer, "", ""
	}
	if !s.fresh(e, now) || !covers(e, a.NumWant, a.Seeder, memberSize(k.v6)) {
		return sampleSize, "", ""
	}
	e.used++
	e.touched = now
	return drawNone, e.seeders, e.leechers
}

func (s *samples) fresh(e *sampleEntry, now time.Time) bool {
	return !e.taken.IsZero() && !now.Before(e.taken) && now.Sub(e.taken) < s.age && e.used < s.uses
}

// covers tells whether the sample can answer with as many peers as the
// lists hold (as of the latest answer), the announcer's own entry aside.
// entry is the size of a member.
func covers(e *sampleEntry, numWant int, seeder bool, entry int) bool {
	ns, nl := len(e.seeders)/entry, len(e.leechers)/entry
	if seeder {
		return nl >= min(numWant+1, e.cl)
	}
	return ns+nl >= min(numWant+1, e.cs+e.cl)
}

// record keeps what an answer told about the swarm: the family's list
// sizes and, when the script drew one, a new sample. A swarm below the
// floor is forgotten; a stop makes the next answer draw a new sample.
func (s *samples) record(k sampleKey, now time.Time, cs, cl int, stopped bool, drawn bool, seeders, leechers string) {
	if s == nil {
		return
	}
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if cs+cl < sampleFloor {
		delete(sh.m, k)
		return
	}
	e := sh.m[k]
	if e == nil {
		e = &sampleEntry{}
		sh.m[k] = e
	}
	e.cs, e.cl, e.touched = cs, cl, now
	if drawn {
		e.seeders, e.leechers, e.taken, e.used = seeders, leechers, now, 1
	}
	if stopped {
		e.taken = time.Time{}
	}
}

// prune drops the entries no answer used for samplePrune ages.
func (s *samples) prune(now time.Time) {
	if s == nil {
		return
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, e := range sh.m {
			if now.Sub(e.touched) > samplePrune*s.age || now.Before(e.touched) {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

// len is how many swarm families hold a sample (entries of large swarms
// that are not busy hold none).
func (s *samples) len() int {
	if s == nil {
		return 0
	}
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			if e.seeders != "" || e.leechers != "" {
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// memberSize is the size of a list member: compact address and peer ID.
func memberSize(v6 bool) int {
	if v6 {
		return 18 + 20
	}
	return 6 + 20
}
