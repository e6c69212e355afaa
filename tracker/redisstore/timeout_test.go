package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

// newTimedStore is a store whose client and store share one timeout, as
// cmd/tracker builds them from --redis-timeout.
func newTimedStore(t *testing.T, addr string, timeout time.Duration, cfg Config) *Store {
	t.Helper()
	c, err := NewClient(ClientConfig{URL: "redis://" + addr, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = c
	cfg.Timeout = timeout
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func peer(n int) tracker.PeerAnnounce {
	return tracker.PeerAnnounce{InfoHash: storetest.Hash(n % 7), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), NumWant: 50}
}

// announceAll runs n announces at once and returns how long each took and
// what each returned.
func announceAll(s *Store, n int) ([]time.Duration, []error) {
	took := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out tracker.SwarmAnswer
			start := time.Now()
			errs[i] = s.Announce(context.Background(), peer(i), &out)
			took[i] = time.Since(start)
		}()
	}
	wg.Wait()
	return took, errs
}

func TestAnnouncesFailWithinTheTimeoutWhileRedisIsDown(t *testing.T) {
	const timeout = 250 * time.Millisecond
	// The README promises failure within --redis-timeout. The slack is for
	// a loaded machine and the race detector; go-redis's own dial retries
	// (5 dials 100ms apart) made each announce take 800ms here.
	const bound = timeout + 250*time.Millisecond
	r := redisFor(t)
	s := newTimedStore(t, r.Addr, timeout, Config{})
	var out tracker.SwarmAnswer
	if err := s.Announce(context.Background(), peer(0), &out); err != nil {
		t.Fatal(err)
	}
	r.Proc.Stop(9, time.Second) // connection refused from now on
	for round := range 3 {
		took, errs := announceAll(s, 200)
		for i := range took {
			if errs[i] == nil {
				t.Fatalf("round %d: announce %d succeeded with Redis down", round, i)
			}
			if took[i] > bound {
				t.Errorf("round %d: announce %d took %s to fail (%v), more than the %s timeout allows", round, i, took[i], errs[i], timeout)
			}
		}
	}
}

func TestAnnouncesFailWithinTheTimeoutWhileRedisIsPaused(t *testing.T) {
	const timeout = 250 * time.Millisecond
	const bound = timeout + 250*time.Millisecond
	r := redisFor(t)
	// One pipeline of one announce at a time, so that nearly all of them
	// wait in the queue behind a pipeline Redis does not answer.
	s := newTimedStore(t, r.Addr, timeout, Config{Pipelines: 1, BatchSize: 1, MaxQueued: 1000})
	var out tracker.SwarmAnswer
	if err := s.Announce(context.Background(), peer(0), &out); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CLI("client", "pause", "3000", "all"); err != nil {
		t.Fatal(err)
	}
	took, errs := announceAll(s, 300)
	for i := range took {
		if errs[i] == nil {
			t.Fatalf("announce %d succeeded with Redis paused", i)
		}
		if took[i] > bound {
			t.Errorf("announce %d waited %s (%v) behind a paused Redis, more than the %s timeout allows", i, took[i], errs[i], timeout)
		}
	}
}

func TestFullQueueFailsAtOnce(t *testing.T) {
	r := redisFor(t)
	// A timeout long enough that whatever returns well within it was
	// refused by the full queue rather than timed out. (Close waits for
	// the pipeline on the wire up to it.)
	const timeout = 3 * time.Second
	const queued = 4
	s := newTimedStore(t, r.Addr, timeout, Config{Pipelines: 1, BatchSize: 1, MaxQueued: queued})
	var out tracker.SwarmAnswer
	if err := s.Announce(context.Background(), peer(0), &out); err != nil {
		t.Fatal(err)
	}
	// Redis stops answering: the worker's one announce hangs, and the
	// queue fills behind it.
	if _, err := r.CLI("client", "pause", "60000", "all"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range queued + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out tracker.SwarmAnswer
			s.Announce(ctx, peer(i), &out) // ends when ctx does
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(s.batch.calls) < queued {
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d calls, want %d", len(s.batch.calls), queued)
		}
		time.Sleep(time.Millisecond)
	}
	for i := range 50 {
		start := time.Now()
		err := s.Announce(context.Background(), peer(100+i), &out)
		if !errors.Is(err, errQueueFull) {
			t.Fatalf("announce %d with the queue full: %v, want %v", i, err, errQueueFull)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("announce %d took %s to find the queue full", i, d)
		}
	}
	// Scrapes wait in the same queue.
	start := time.Now()
	stats := make([]tracker.ScrapeStats, 1)
	if err := s.Scrape(context.Background(), []tracker.InfoHash{peer(0).InfoHash}, stats); !errors.Is(err, errQueueFull) {
		t.Fatalf("scrape with the queue full: %v, want %v", err, errQueueFull)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("scrape took %s to find the queue full", d)
	}
	cancel()
}

func TestAnnouncesRacingCloseAllReturn(t *testing.T) {
	for round := range 20 {
		r := redisFor(t)
		// A timeout longer than the test: a call stranded in the queue
		// would wait for it, and the test would see that.
		s := newTimedStore(t, r.Addr, time.Hour, Config{Pipelines: 2, BatchSize: 4})
		const callers = 64
		var wg sync.WaitGroup
		started := make(chan struct{}, callers)
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				started <- struct{}{}
				var out tracker.SwarmAnswer
				// Announce until the store says it is closed.
				for n := 0; ; n++ {
					out.Reset()
					if err := s.Announce(context.Background(), peer(i*1000+n), &out); errors.Is(err, errClosed) {
						return
					}
				}
			}()
		}
		for range callers {
			<-started
		}
		s.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: announces racing Close never returned", round)
		}
	}
}
