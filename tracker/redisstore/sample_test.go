package redisstore

import (
	"context"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

// seedSwarm announces IPv4 seeders from .. to-1 to swarm 1 through s.
func seedSwarm(t *testing.T, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		var out tracker.SwarmAnswer
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(i), Addr: storetest.Addr4(i), Seeder: true, NumWant: 50}
		if err := s.Announce(context.Background(), pa, &out); err != nil {
			t.Fatal(err)
		}
	}
}

func compact4(ap netip.AddrPort) string {
	a := ap.Addr().As4()
	return string(binary.BigEndian.AppendUint16(a[:], ap.Port()))
}

// leech announces leecher n to swarm 1 through s and returns the peers it
// got, checked: want of them, distinct, never itself.
func leech(t *testing.T, s *Store, n, numWant, want int) map[string]bool {
	t.Helper()
	var out tracker.SwarmAnswer
	pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), NumWant: numWant}
	if err := s.Announce(context.Background(), pa, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Peers) != 6*want {
		t.Fatalf("leecher %d got %d peers, want %d", n, len(out.Peers)/6, want)
	}
	got := map[string]bool{}
	for i := 0; i < len(out.Peers); i += 6 {
		e := string(out.Peers[i : i+6])
		if got[e] {
			t.Fatalf("leecher %d got peer %x twice", n, e)
		}
		got[e] = true
	}
	if got[compact4(storetest.Addr4(n))] {
		t.Fatalf("leecher %d got itself", n)
	}
	return got
}

// drawsOf counts the ZRANGEs Redis ran: the script reads peers with them
// (and settle reads a list's oldest when a swarm is new or swept).
func drawsOf(t *testing.T, r *testenv.RedisServer) int {
	t.Helper()
	return commandStats(t, r)["zrange"]
}

func TestLargeSwarmsAreAnsweredFromTheReplicasSample(t *testing.T) {
	for _, c := range []struct {
		name string
		uses int
	}{{"sampled", 0}, {"drawn every time", -1}} {
		t.Run(c.name, func(t *testing.T) {
			r := redisFor(t)
			clock := storetest.NewClock()
			s := newStore(t, r.Addr, Config{Now: clock.Now, SampleUses: c.uses})
			seedSwarm(t, s, 0, 100)
			if _, err := r.CLI("config", "resetstat"); err != nil {
				t.Fatal(err)
			}
			const answers = 50
			reached := map[string]bool{}
			for n := range answers {
				for p := range leech(t, s, 1000+n, 10, 10) {
					reached[p] = true
				}
			}
			draws := drawsOf(t, r)
			if c.uses == -1 {
				if draws < answers {
					t.Fatalf("%d ZRANGEs for %d answers drawn in Redis", draws, answers)
				}
				if n := answersFrom(t, s, "sample"); n != 0 {
					t.Fatalf("%v answers counted from a sample with sampling off", n)
				}
				return
			}
			if n := answersFrom(t, s, "sample") + answersFrom(t, s, "new_sample"); n < answers {
				t.Fatalf("%v answers counted from samples, want %d at least", n, answers)
			}
			// One sample (two lists) for 50 answers: it serves 64.
			if draws > 4 {
				t.Fatalf("%d ZRANGEs for %d answers from a sample", draws, answers)
			}
			// Answers still differ: 500 picks from 100 seeders.
			if len(reached) < 80 {
				t.Fatalf("50 answers of 10 reached %d of 100 seeders", len(reached))
			}
		})
	}
}

func TestQuietSwarmsAreNotSampled(t *testing.T) {
	r := redisFor(t)
	clock := storetest.NewClock()
	s := newStore(t, r.Addr, Config{Now: clock.Now, SampleAge: time.Second})
	seedSwarm(t, s, 0, 100)
	sampled := func() float64 { return answersFrom(t, s, "sample") + answersFrom(t, s, "new_sample") }
	before, drawn := sampled(), answersFrom(t, s, "redis")
	// The swarm, hot while it filled, then announced to once per two
	// ages: a sample would serve no second answer.
	for n := range 20 {
		clock.Advance(2 * time.Second)
		leech(t, s, 1000+n, 10, 10)
	}
	if n := sampled() - before; n != 0 {
		t.Fatalf("%v answers to a quiet swarm from a sample", n)
	}
	if n := answersFrom(t, s, "redis") - drawn; n != 20 {
		t.Fatalf("%v answers drawn in Redis, want 20", n)
	}
	k := sampleKey{h: storetest.Hash(1)}
	sh := s.samples.shard(k)
	sh.mu.Lock()
	e := sh.m[k]
	held := e != nil && (e.seeders != "" || e.leechers != "")
	sh.mu.Unlock()
	if e == nil || held {
		t.Fatalf("entry of the quiet swarm: %+v, want one holding no members", e)
	}
	if n := s.samples.len(); n != 0 {
		t.Fatalf("%d swarms counted as sampled, want 0", n)
	}
}

func TestSmallSwarmsAreDrawnEveryTime(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	// 53 seeders, then leechers that each see the ones before: 63 peers
	// at most, one below the floor.
	seeds := sampleFloor - 11
	seedSwarm(t, s, 0, seeds)
	if _, err := r.CLI("config", "resetstat"); err != nil {
		t.Fatal(err)
	}
	for n := range 10 {
		leech(t, s, 1000+n, 100, seeds+n)
	}
	if draws := drawsOf(t, r); draws < 10 {
		t.Fatalf("%d ZRANGEs for 10 answers to a swarm below the floor", draws)
	}
}

func TestASampleIsRedrawnWhenItFallsShort(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	seedSwarm(t, s, 0, 100)
	leech(t, s, 1000, 150, 100)
	// 20 newcomers: the sample no longer holds every seeder an answer
	// of 150 would name, so the next answer draws again.
	seedSwarm(t, s, 100, 120)
	got := leech(t, s, 1001, 150, 121)
	for i := 100; i < 120; i++ {
		if !got[compact4(storetest.Addr4(i))] {
			t.Fatalf("seeder %d, new since the sample, missing from an answer that names the whole swarm", i)
		}
	}
}

func TestNoAnswerAfterAStopThroughTheReplicaNamesThePeer(t *testing.T) {
	r := redisFor(t)
	clock := storetest.NewClock()
	s := newStore(t, r.Addr, Config{Now: clock.Now})
	seedSwarm(t, s, 0, 100)
	// An answer of 99 draws a sample that holds every seeder.
	leech(t, s, 1000, 99, 99)
	var out tracker.SwarmAnswer
	gone := storetest.Addr4(7)
	stop := tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(7), Addr: gone, Seeder: true, Event: tracker.EventStopped}
	if err := s.Announce(context.Background(), stop, &out); err != nil {
		t.Fatal(err)
	}
	// The answers after the stop still come from that sample: half of
	// the seeders each, so a sample that kept the stopped one would name
	// it in one of them.
	before := answersFrom(t, s, "sample")
	for n := range 40 {
		if leech(t, s, 1001+n, 50, 50)[compact4(gone)] {
			t.Fatalf("answer %d after its stop names the stopped seeder", n)
		}
	}
	if got := answersFrom(t, s, "sample") - before; got != 40 {
		t.Fatalf("%v of 40 answers after the stop came from the sample, want all", got)
	}
}

func TestASampleServesAtMostItsAge(t *testing.T) {
	r := redisFor(t)
	clock := storetest.NewClock()
	s := newStore(t, r.Addr, Config{Now: clock.Now, SampleAge: time.Minute})
	seedSwarm(t, s, 0, 100)
	leech(t, s, 1000, 10, 10)
	if _, err := r.CLI("config", "resetstat"); err != nil {
		t.Fatal(err)
	}
	leech(t, s, 1001, 10, 10)
	if draws := drawsOf(t, r); draws != 0 {
		t.Fatalf("%d ZRANGEs for an answer from a fresh sample", draws)
	}
	clock.Advance(time.Minute)
	leech(t, s, 1002, 10, 10)
	if draws := drawsOf(t, r); draws == 0 {
		t.Fatal("an answer after the sample's age was not drawn again")
	}
}

func TestSamplesOfQuietSwarmsArePruned(t *testing.T) {
	r := redisFor(t)
	clock := storetest.NewClock()
	s := newStore(t, r.Addr, Config{Now: clock.Now})
	seedSwarm(t, s, 0, 100)
	if n := s.samples.len(); n != 1 {
		t.Fatalf("%d swarms sampled, want 1", n)
	}
	s.samples.prune(clock.Now())
	if n := s.samples.len(); n != 1 {
		t.Fatalf("%d swarms sampled after pruning a busy one, want 1", n)
	}
	clock.Advance(samplePrune*5*time.Second + time.Second)
	s.samples.prune(clock.Now())
	if n := s.samples.len(); n != 0 {
		t.Fatalf("%d swarms sampled after pruning a quiet one, want 0", n)
	}
}

// answersFrom reads the store's count of answers whose peers came from
// source, as Prometheus would.
func answersFrom(t *testing.T, s *Store, source string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "bitorigin_tracker_redis_answers_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == source {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no answers counted from %s", source)
	return 0
}

func TestNewRejectsBadSampleSettings(t *testing.T) {
	for _, cfg := range []Config{{SampleUses: -2}, {SampleAge: -time.Second}} {
		c, err := NewClient(ClientConfig{URL: "redis://127.0.0.1:1"}) // never dialled
		if err != nil {
			t.Fatal(err)
		}
		cfg.Client = c
		s, err := New(cfg)
		if err == nil {
			s.Close()
			t.Fatalf("New(%+v) accepted", cfg)
		}
		c.Close()
		if !strings.Contains(err.Error(), "sample") {
			t.Fatalf("New(%+v): %v, want an error naming the sample setting", cfg, err)
		}
	}
}

// mem is the i-th of distinct IPv4 members, and list joins mem(from) up
// to mem(to-1).
func mem(i int) string {
	id := storetest.ID(i)
	return compact4(storetest.Addr4(i)) + string(id[:])
}

func list(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(mem(i))
	}
	return b.String()
}

// samplesWith is a replica's samples holding a hot swarm family with a
// sample of 100 seeders (members 0-99) and 100 leechers (100-199) drawn at
// now.
func samplesWith(t *testing.T, now time.Time) (*samples, sampleKey) {
	t.Helper()
	s := newSamples(64, 5*time.Second, time.Second)
	k := sampleKey{h: storetest.Hash(1)}
	a := tracker.PeerAnnounce{InfoHash: k.h, NumWant: 50}
	s.record(k, now, 100, 100, "", false, "", "", 0)
	for range sampleHot - 1 {
		if mode, _, _, _ := s.plan(k, now, a); mode != drawAnswer {
			t.Fatalf("a swarm not yet hot planned mode %d", mode)
		}
	}
	mode, _, _, token := s.plan(k, now, a)
	if mode != sampleSize {
		t.Fatalf("the hot swarm's first plan is mode %d, want a sample", mode)
	}
	s.record(k, now, 100, 100, "", true, list(0, 100), list(100, 200), token)
	return s, k
}

func TestOneAnnounceAtATimeDrawsANewSample(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s, k := samplesWith(t, now)
	a := tracker.PeerAnnounce{InfoHash: k.h, NumWant: 50}
	for n := 1; n < 64; n++ {
		if mode, _, _, _ := s.plan(k, now, a); mode != drawNone {
			t.Fatalf("use %d of a fresh sample planned mode %d", n+1, mode)
		}
	}
	// Used up: the next announce draws a new sample, and those planned
	// while it is on its way answer from the old one.
	mode, _, _, token := s.plan(k, now, a)
	if mode != sampleSize {
		t.Fatalf("a used-up sample planned mode %d, want a new sample", mode)
	}
	for n := range 100 {
		if mode, sd, _, _ := s.plan(k, now.Add(time.Duration(n)*time.Millisecond), a); mode != drawNone || sd != list(0, 100) {
			t.Fatalf("announce %d while the new sample is drawn planned mode %d with %d bytes", n, mode, len(sd))
		}
	}
	// One that the old sample cannot answer draws its own answer, not a
	// second sample.
	big := tracker.PeerAnnounce{InfoHash: k.h, NumWant: 250}
	s.record(k, now, 200, 200, "", false, "", "", 0)
	if mode, _, _, _ := s.plan(k, now, big); mode != drawAnswer {
		t.Fatalf("an announce the old sample falls short of planned mode %d while another draws", mode)
	}
	s.record(k, now, 200, 200, "", true, list(200, 400), list(400, 600), token)
	if mode, sd, _, _ := s.plan(k, now, a); mode != drawNone || sd != list(200, 400) {
		t.Fatalf("after the new sample arrived: mode %d, want answers from it", mode)
	}
}

func TestADrawThatNeverArrivesIsRetriedAfterTheWait(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s, k := samplesWith(t, now)
	a := tracker.PeerAnnounce{InfoHash: k.h, NumWant: 50}
	later := now.Add(6 * time.Second) // past the sample's age
	mode, _, _, first := s.plan(k, later, a)
	if mode != sampleSize {
		t.Fatalf("an old sample planned mode %d, want a new sample", mode)
	}
	// That announce fails: nothing is recorded. Within the wait others
	// answer from the old sample; after it, one draws again.
	if mode, _, _, _ := s.plan(k, later.Add(999*time.Millisecond), a); mode != drawNone {
		t.Fatalf("within the wait: mode %d, want the old sample", mode)
	}
	if mode, _, _, _ := s.plan(k, later.Add(time.Second), a); mode != sampleSize {
		t.Fatalf("after the wait: mode %d, want a new sample", mode)
	}
	// The first draw's sample, arriving late, is not kept.
	s.record(k, later.Add(time.Second), 100, 100, "", true, list(300, 400), list(400, 500), first)
	if mode, sd, _, _ := s.plan(k, later.Add(time.Second), a); mode != drawNone || sd != list(0, 100) {
		t.Fatalf("after a superseded draw arrived: mode %d, want the old sample", mode)
	}
}

func TestAStopIsCutOutOfTheSampleAndTheOneOnItsWay(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s, k := samplesWith(t, now)
	a := tracker.PeerAnnounce{InfoHash: k.h, NumWant: 50}
	// Seeder 7 and leecher 150 stop through this replica: the sample keeps
	// serving, without them.
	s.record(k, now, 99, 100, mem(7), false, "", "", 0)
	s.record(k, now, 99, 99, mem(150), false, "", "", 0)
	mode, sd, ld, _ := s.plan(k, now, a)
	if mode != drawNone || sd != list(0, 7)+list(8, 100) || ld != list(100, 150)+list(151, 200) {
		t.Fatalf("after two stops: mode %d, %d and %d bytes, want the sample without them", mode, len(sd), len(ld))
	}
	// A new sample is on its way when seeder 8 stops: it may hold it, and
	// loses it when it arrives.
	later := now.Add(6 * time.Second)
	mode, _, _, token := s.plan(k, later, a)
	if mode != sampleSize {
		t.Fatalf("an old sample planned mode %d, want a new sample", mode)
	}
	s.record(k, later, 98, 99, mem(8), false, "", "", 0)
	s.record(k, later, 98, 99, "", true, list(0, 100), list(100, 200), token)
	if mode, sd, _, _ := s.plan(k, later, a); mode != drawNone || sd != list(0, 8)+list(9, 100) {
		t.Fatalf("the sample on its way during a stop: mode %d, %d bytes, want it without the stopped seeder", mode, len(sd))
	}
	if got := without(list(0, 3), mem(9)); got != list(0, 3) {
		t.Fatal("without cut a member the list does not hold")
	}
}

func TestASampleOnItsWayPastManyStopsIsNotKept(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s, k := samplesWith(t, now)
	a := tracker.PeerAnnounce{InfoHash: k.h, NumWant: 50}
	later := now.Add(6 * time.Second)
	mode, _, _, token := s.plan(k, later, a)
	if mode != sampleSize {
		t.Fatalf("an old sample planned mode %d, want a new sample", mode)
	}
	// More stops than are kept to cut out of it: the sample on its way is
	// dropped when it arrives, and the next announce draws again.
	for i := range maxStopsWhileDrawing + 1 {
		s.record(k, later, 100, 100, mem(1000+i), false, "", "", 0)
	}
	s.record(k, later, 100, 100, "", true, list(300, 400), list(400, 500), token)
	if mode, sd, _, _ := s.plan(k, later, a); mode != sampleSize {
		t.Fatalf("after the dropped sample: mode %d with %d bytes, want a new sample", mode, len(sd))
	}
}
