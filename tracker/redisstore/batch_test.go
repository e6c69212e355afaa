package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

// A scrape goes out in the announces' batch, and a batch that holds both
// still recovers from a Redis that has lost the announce script: the
// announce is sent again after the load, the scrape's replies stay as they
// came.
func TestAScrapeSharesTheAnnouncesBatch(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	ctx := context.Background()
	h := storetest.Hash(1)
	var out tracker.SwarmAnswer
	seed := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(1), Addr: storetest.Addr4(1), Seeder: true, Event: tracker.EventCompleted}
	if err := s.Announce(ctx, seed, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CLI("script", "flush"); err != nil {
		t.Fatal(err)
	}
	// A batcher with no worker yet, so that the scrape and the announce
	// are both queued when the worker starts: it takes them as one batch.
	s.batch.close()
	b := newBatcher(s.c, 0, 64, 64)
	s.batch = b

	type result struct {
		stats []tracker.ScrapeStats
		out   tracker.SwarmAnswer
		err   error
	}
	scraped, announced := make(chan result, 1), make(chan result, 1)
	go func() {
		stats := make([]tracker.ScrapeStats, 2)
		err := s.Scrape(ctx, []tracker.InfoHash{h, storetest.Hash(2)}, stats)
		scraped <- result{stats: stats, err: err}
	}()
	testenv.Eventually(t, 10*time.Second, "the scrape queued", func() bool { return len(b.calls) == 1 })
	go func() {
		var res result
		leecher := tracker.PeerAnnounce{InfoHash: h, PeerID: storetest.ID(2), Addr: storetest.Addr4(2), NumWant: 50}
		res.err = s.Announce(ctx, leecher, &res.out)
		announced <- res
	}()
	testenv.Eventually(t, 10*time.Second, "the announce queued behind the scrape", func() bool { return len(b.calls) == 2 })
	b.wg.Add(1)
	go b.run()

	sc, an := <-scraped, <-announced
	if sc.err != nil {
		t.Fatalf("scrape: %v", sc.err)
	}
	want := []tracker.ScrapeStats{{Seeders: 1, Downloaded: 1}, {}}
	for i := range want {
		if sc.stats[i] != want[i] {
			t.Errorf("scrape of torrent %d: %+v, want %+v", i+1, sc.stats[i], want[i])
		}
	}
	if an.err != nil {
		t.Fatalf("announce in the same batch, after the script was lost: %v", an.err)
	}
	if an.out.Seeders != 1 || an.out.Leechers != 1 || len(an.out.Peers) != 6 {
		t.Errorf("announce answer: %d seeders, %d leechers, %d bytes of peers; want 1, 1 and the seeder's 6",
			an.out.Seeders, an.out.Leechers, len(an.out.Peers))
	}
}

// A scrape whose call a worker answers without sending it (past its
// deadline, or with the store closing) fails with the worker's reason: its
// commands were never sent and hold no replies to read.
func TestAScrapeRefusedByTheWorkerFails(t *testing.T) {
	r := redisFor(t)
	s := newStore(t, r.Addr, Config{})
	s.batch.close()
	b := newBatcher(s.c, 0, 64, 64)
	s.batch = b
	for _, refusal := range []error{errClosed, errTimeout} {
		done := make(chan error, 1)
		go func() {
			stats := make([]tracker.ScrapeStats, 1)
			done <- s.Scrape(context.Background(), []tracker.InfoHash{storetest.Hash(1)}, stats)
		}()
		testenv.Eventually(t, 10*time.Second, "the scrape queued", func() bool { return len(b.calls) == 1 })
		(<-b.calls).refuse(refusal)
		if err := <-done; !errors.Is(err, refusal) {
			t.Errorf("scrape refused with %v: %v", refusal, err)
		}
	}
}
