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
//     swarm has grown past it), so a newcomer (or a peer that left through
//     another replica) shows in the answers within that bound;
//   - one announce at a time draws a swarm family's new sample: while it is
//     on its way (at most the store's timeout), the others answer from the
//     sample it replaces, or draw their own answer in Redis when there is
//     none or it falls short. Without this, every announce planned during
//     the round trip drew a sample of its own: on one hot swarm under load,
//     four answers in ten drew 512 members where one in 64 should;
//   - a stop through this replica cuts the stopped peer out of the sample,
//     and out of the new one on its way when it arrives, so no answer after
//     the stop names the peer. (Stops are a few in a hundred announces: a
//     sample drawn again after each would be drawn every few answers on a
//     hot swarm.)
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
	uses int
	age  time.Duration
	// wait is how long a new sample may be on its way (the store's
	// timeout): after it, the announce drawing it has failed, and the next
	// one draws instead.
	wait   time.Duration
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
	// drawing is when an announce set out to draw a new sample, zero when
	// none is on its way; draws counts the draws begun, so that only the
	// latest is kept; stopped holds the members that stopped through this
	// replica while it was on its way (it may hold them).
	drawing time.Time
	draws   uint64
	stopped []string
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

func newSamples(uses int, age, wait time.Duration) *samples {
	s := &samples{uses: uses, age: age, wait: wait}
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
// sample, with the token to record it by. s may be nil (sampling off).
func (s *samples) plan(k sampleKey, now time.Time, a tracker.PeerAnnounce) (mode int, seeders, leechers string, token uint64) {
	if s == nil || a.Event == tracker.EventStopped || a.NumWant <= 0 {
		return drawAnswer, "", "", 0
	}
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[k]
	if e == nil || a.NumWant >= sampleSize {
		return drawAnswer, "", "", 0
	}
	if !e.count(now, s.age) {
		// A swarm that has cooled keeps no members in memory.
		e.seeders, e.leechers, e.taken = "", "", time.Time{}
		return drawAnswer, "", "", 0
	}
	// Another announce may be drawing the new sample: meanwhile the old
	// one serves, past its uses or age.
	d := now.Sub(e.drawing)
	drawing := !e.drawing.IsZero() && d >= 0 && d < s.wait
	covered := covers(e, a.NumWant, a.Seeder, memberSize(k.v6))
	switch {
	case covered && (s.fresh(e, now) || drawing && !e.taken.IsZero()):
		e.used++
		e.touched = now
		return drawNone, e.seeders, e.leechers, 0
	case drawing:
		return drawAnswer, "", "", 0
	}
	// A draw planned now runs in Redis after every stop recorded so far.
	e.drawing, e.stopped = now, e.stopped[:0]
	e.draws++
	return sampleSize, "", "", e.draws
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

// maxStopsWhileDrawing bounds the members kept to cut out of a sample on
// its way; past it, the sample is not kept and the next announce draws
// again.
const maxStopsWhileDrawing = 64

// record keeps what an answer told about the swarm: the family's list
// sizes and, when the script drew one, a new sample with the token plan
// gave. A swarm below the floor is forgotten. stopped is the member of an
// announce that stopped, empty for any other: it leaves the sample, and
// the one on its way.
func (s *samples) record(k sampleKey, now time.Time, cs, cl int, stopped string, drawn bool, seeders, leechers string, token uint64) {
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
	if drawn && token == e.draws && !e.drawing.IsZero() {
		for _, m := range e.stopped {
			seeders, leechers = without(seeders, m), without(leechers, m)
		}
		e.seeders, e.leechers, e.taken, e.used = seeders, leechers, now, 1
		e.drawing, e.stopped = time.Time{}, e.stopped[:0]
	}
	if stopped != "" {
		e.seeders, e.leechers = without(e.seeders, stopped), without(e.leechers, stopped)
		if !e.drawing.IsZero() {
			if len(e.stopped) == maxStopsWhileDrawing {
				e.drawing, e.stopped = time.Time{}, e.stopped[:0]
			} else {
				e.stopped = append(e.stopped, stopped)
			}
		}
	}
}

// without returns the joined members of list without member m (all members
// are the same size).
func without(list, m string) string {
	for i := 0; i+len(m) <= len(list); i += len(m) {
		if list[i:i+len(m)] == m {
			return list[:i] + list[i+len(m):]
		}
	}
	return list
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
