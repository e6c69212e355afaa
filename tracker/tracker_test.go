package tracker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// flakyStore is a Store whose Announce fails while down is set, and which
// records the last announce it saw.
type flakyStore struct {
	down bool
	last PeerAnnounce
}

func (s *flakyStore) Announce(_ context.Context, a PeerAnnounce, _ *SwarmAnswer) error {
	s.last = a
	if s.down {
		return errors.New("connection refused")
	}
	return nil
}
func (s *flakyStore) Scrape(context.Context, []InfoHash, []ScrapeStats) error { return nil }
func (s *flakyStore) FullScrape(context.Context, int, func(InfoHash, ScrapeStats)) error {
	return nil
}
func (s *flakyStore) Ping(context.Context) error { return nil }
func (s *flakyStore) Close() error               { return nil }

func TestStoreFailuresAreLoggedOncePerBurst(t *testing.T) {
	var logs bytes.Buffer
	store := &flakyStore{down: true}
	tr, err := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	var resp AnnounceResponse
	for range 100 {
		err := tr.Announce(context.Background(), &AnnounceRequest{NumWant: -1, Left: 1}, &resp)
		var f Failure
		if err == nil || errors.As(err, &f) {
			t.Fatalf("store failure came back as %v, want an internal error", err)
		}
	}
	store.down = false
	for range 10 {
		if err := tr.Announce(context.Background(), &AnnounceRequest{NumWant: -1, Left: 1}, &resp); err != nil {
			t.Fatal(err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "store failing"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "swarm store recovered") || !strings.Contains(out, "failed_requests=100") {
		t.Errorf("no recovery line with the count:\n%s", out)
	}
}

func TestPolicyClampsNumWantAndStoppedGetsNone(t *testing.T) {
	store := &flakyStore{}
	tr, err := New(Config{NumWantDefault: 30, NumWantMax: 80}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		numWant int
		event   Event
		want    int
	}{{-1, EventNone, 30}, {500, EventNone, 80}, {0, EventNone, 0}, {10, EventStarted, 10}, {10, EventStopped, 0}}
	var resp AnnounceResponse
	for _, c := range cases {
		if err := tr.Announce(context.Background(), &AnnounceRequest{NumWant: c.numWant, Event: c.event}, &resp); err != nil {
			t.Fatal(err)
		}
		if store.last.NumWant != c.want {
			t.Errorf("numwant %d event %s: store asked for %d, want %d", c.numWant, c.event, store.last.NumWant, c.want)
		}
	}
	if err := tr.Announce(context.Background(), &AnnounceRequest{Left: 0}, &resp); err != nil || !store.last.Seeder {
		t.Errorf("left=0 is not a seeder: %+v %v", store.last, err)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{Interval: time.Millisecond},
		{Interval: time.Minute, MinInterval: time.Hour},
		{Jitter: 0.6},
		{NumWantDefault: 300, NumWantMax: 200},
		{ScrapeMax: -1},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func TestParseInfoHash(t *testing.T) {
	if _, err := ParseInfoHash("0123456789abcdef0123456789abcdef0123456"); err == nil {
		t.Error("39 characters accepted")
	}
	if _, err := ParseInfoHash("0123456789abcdef0123456789abcdef0123456g"); err == nil {
		t.Error("non-hex accepted")
	}
	h, err := ParseInfoHash("0123456789abcdef0123456789abcdef01234567")
	if err != nil || h.String() != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("round trip: %v %v", h, err)
	}
}
