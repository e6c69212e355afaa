package announcer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// fakeTracker records announces and answers with what reply returns.
type fakeTracker struct {
	*httptest.Server
	mu    sync.Mutex
	got   []url.Values
	reply func(n int, q url.Values) (status int, body string)
}

func newFakeTracker(t *testing.T, reply func(n int, q url.Values) (int, string)) *fakeTracker {
	ft := &fakeTracker{reply: reply}
	ft.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft.mu.Lock()
		ft.got = append(ft.got, r.URL.Query())
		n := len(ft.got)
		ft.mu.Unlock()
		status, body := ft.reply(n, r.URL.Query())
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(ft.Close)
	return ft
}

func (ft *fakeTracker) announces() []url.Values {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return slices.Clone(ft.got)
}

func (ft *fakeTracker) url() string { return ft.URL + "/announce" }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, what, cond)
}

func config(tiers ...[]string) Config {
	return Config{
		Tiers:      tiers,
		Clients:    map[string]Client{"http": NewHTTPClient(2 * time.Second)},
		InfoHash:   [20]byte{0xaa, 1, 2},
		PeerID:     [20]byte{'-', 'B', 'O'},
		Port:       6881,
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 80 * time.Millisecond,
	}
}

func TestAnnouncesStartedThenIntervalUpdatesThenStopped(t *testing.T) {
	compact := "\x7f\x00\x00\x01\x1a\xe1"
	ft := newFakeTracker(t, func(int, url.Values) (int, string) {
		return 200, "d8:intervali1e5:peers6:" + compact + "e"
	})
	var uploaded int64
	var mu sync.Mutex
	cfg := config([]string{ft.url()})
	cfg.Stats = func() (int64, int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		uploaded += 1000
		return uploaded, 0, 0
	}
	peers := make(chan []netip.AddrPort, 10)
	cfg.Peers = func(p []netip.AddrPort) { peers <- p }
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { a.Run(ctx); close(done) }()
	waitFor(t, "two announces", func() bool { return len(ft.announces()) >= 2 })
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Fatalf("second announce after %s; the tracker's interval is 1s", took)
	}
	cancel()
	<-done
	got := ft.announces()
	if len(got) != 3 {
		t.Fatalf("%d announces, want started, one update, stopped", len(got))
	}
	for i, want := range []string{"started", "", "stopped"} {
		q := got[i]
		if q.Get("event") != want || q.Get("left") != "0" || q.Get("port") != "6881" || q.Get("compact") != "1" {
			t.Fatalf("announce %d: %v, want event %q, left 0", i, q, want)
		}
		if q.Get("info_hash") != string(cfg.InfoHash[:]) || q.Get("peer_id") != string(cfg.PeerID[:]) {
			t.Fatalf("announce %d: wrong info_hash or peer_id: %v", i, q)
		}
		if q.Get("uploaded") != fmt.Sprint(1000*(i+1)) {
			t.Fatalf("announce %d: uploaded %s, want the real count %d", i, q.Get("uploaded"), 1000*(i+1))
		}
	}
	if p := <-peers; !slices.Equal(p, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:6881")}) {
		t.Fatalf("peers %v", p)
	}
}

func TestMinIntervalIsAFloor(t *testing.T) {
	ft := newFakeTracker(t, func(int, url.Values) (int, string) {
		return 200, "d12:min intervali1e5:peers0:e"
	})
	cfg := config([]string{ft.url()})
	cfg.DefaultInterval = 10 * time.Millisecond
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	a.Run(ctx)
	// started at 0, one update at 1 s, stopped at 1.5 s.
	if n := len(ft.announces()); n != 3 {
		t.Fatalf("%d announces in 1.5 s with min interval 1 s, want 3", n)
	}
}

func TestLaterTiersAreTriedWhenEarlierOnesFail(t *testing.T) {
	down := newFakeTracker(t, func(int, url.Values) (int, string) { return 500, "oops" })
	refuses := newFakeTracker(t, func(int, url.Values) (int, string) {
		return 200, "d14:failure reason12:unregisterede"
	})
	up := newFakeTracker(t, func(int, url.Values) (int, string) {
		return 200, "d8:intervali60e5:peers0:e"
	})
	a, err := New(config([]string{down.url(), refuses.url()}, []string{up.url()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	waitFor(t, "the second tier's announce", func() bool { return len(up.announces()) == 1 })
	cancel()
	<-done
	if len(down.announces()) != 1 || len(refuses.announces()) != 1 {
		t.Fatalf("first tier tried %d and %d times, want once each", len(down.announces()), len(refuses.announces()))
	}
	// Only the tracker that answered hears stopped.
	if got := up.announces(); len(got) != 2 || got[1].Get("event") != "stopped" {
		t.Fatalf("second tier got %v", got)
	}
}

// A shutdown while the started announce is in flight: the tracker may
// have counted us already, so it must hear stopped, or it hands our
// address out until the peer expires.
func TestShutdownDuringStartedAnnounceStillSendsStopped(t *testing.T) {
	received := make(chan struct{})
	release := make(chan struct{})
	ft := newFakeTracker(t, func(n int, _ url.Values) (int, string) {
		if n == 1 {
			close(received)
			<-release
		}
		return 200, "d8:intervali60e5:peers0:e"
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	a, err := New(config([]string{ft.url()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	<-received // the tracker has the started announce; its answer is held back
	cancel()
	<-done
	close(release)
	got := ft.announces()
	if len(got) != 2 || got[0].Get("event") != "started" || got[1].Get("event") != "stopped" {
		var events []string
		for _, q := range got {
			events = append(events, q.Get("event"))
		}
		t.Fatalf("events %q, want started then stopped", events)
	}
}

func TestTrackerThatAnswersMovesToTheFrontOfItsTier(t *testing.T) {
	down := newFakeTracker(t, func(int, url.Values) (int, string) { return 503, "" })
	up := newFakeTracker(t, func(int, url.Values) (int, string) { return 200, "d8:intervali1e5:peers0:e" })
	a, err := New(config([]string{down.url(), up.url()}))
	if err != nil {
		t.Fatal(err)
	}
	a.tiers[0] = []string{down.url(), up.url()} // undo the shuffle
	if _, err := a.announce(context.Background(), EventStarted); err != nil {
		t.Fatal(err)
	}
	if _, err := a.announce(context.Background(), EventNone); err != nil {
		t.Fatal(err)
	}
	if n := len(down.announces()); n != 1 {
		t.Fatalf("failed tracker tried %d times; the working one should have moved first", n)
	}
}

func TestFailuresBackOffAndRetryStarted(t *testing.T) {
	ft := newFakeTracker(t, func(n int, _ url.Values) (int, string) {
		if n <= 4 {
			return 500, ""
		}
		return 200, "d8:intervali60e5:peers0:e"
	})
	a, err := New(config([]string{ft.url()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { a.Run(ctx); close(done) }()
	waitFor(t, "a successful announce", func() bool { return len(ft.announces()) >= 5 })
	took := time.Since(start)
	cancel()
	<-done
	// Waits of 20, 40, 80, 80 ms, each ±25%: at least 165 ms in all.
	if took < 160*time.Millisecond {
		t.Fatalf("5 attempts in %s: no back-off", took)
	}
	for i, q := range ft.announces()[:5] {
		if q.Get("event") != "started" {
			t.Fatalf("attempt %d: event %q, want started until one succeeds", i, q.Get("event"))
		}
	}
}

func TestNoStoppedWhenStartedNeverGotThrough(t *testing.T) {
	ft := newFakeTracker(t, func(int, url.Values) (int, string) { return 500, "" })
	cfg := config([]string{ft.url()})
	// Stop while the loop waits out its back-off, not while an announce
	// is in flight: a tracker that may have counted an announce cut off
	// mid-way hears stopped, by design.
	cfg.MinBackoff, cfg.MaxBackoff = time.Hour, time.Hour
	var log testenv.LogBuffer
	cfg.Logger = log.Logger()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	testenv.Eventually(t, 10*time.Second, "the started announce to fail", func() bool {
		return strings.Contains(log.String(), "announce failed on every tracker")
	})
	cancel()
	<-done
	if len(ft.announces()) == 0 {
		t.Fatal("no announce reached the tracker")
	}
	for _, q := range ft.announces() {
		if q.Get("event") == "stopped" {
			t.Fatal("stopped sent although no tracker knows us")
		}
	}
}

func TestNewNeedsASupportedTracker(t *testing.T) {
	if _, err := New(config([]string{"udp://127.0.0.1:1"})); err == nil {
		t.Fatal("udp-only tiers accepted without a udp client")
	}
}

func TestParseResponseReadsEveryPeerForm(t *testing.T) {
	body := "d8:completei3e10:incompletei2e8:intervali1800e12:min intervali60e" +
		"5:peersld2:ip9:127.0.0.14:porti7000eed2:ip3:bad4:porti1eed2:ip7:1.2.3.44:porti0eee" +
		"6:peers618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1b\x5a" +
		"15:warning message4:slowe"
	r, reason, err := ParseResponse([]byte(body))
	if err != nil || reason != "" {
		t.Fatal(reason, err)
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7000"), netip.MustParseAddrPort("[::1]:7002")}
	if !slices.Equal(r.Peers, want) || r.Seeders != 3 || r.Leechers != 2 || r.Interval != 30*time.Minute ||
		r.MinInterval != time.Minute || r.Warning != "slow" {
		t.Fatalf("parsed %+v", r)
	}
	if _, reason, _ := ParseResponse([]byte("d14:failure reason3:no!e")); reason != "no!" {
		t.Fatalf("failure reason %q", reason)
	}
	for _, bad := range []string{"", "i1e", "d8:interval", "le"} {
		if _, _, err := ParseResponse([]byte(bad)); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestHTTPClientReportsFailureReasonAsFailureError(t *testing.T) {
	ft := newFakeTracker(t, func(int, url.Values) (int, string) { return 200, "d14:failure reason4:nopee" })
	_, err := NewHTTPClient(time.Second).Announce(context.Background(), ft.url()+"?key=abc", &Request{})
	var fe *FailureError
	if !errors.As(err, &fe) || fe.Reason != "nope" {
		t.Fatalf("err %v, want a FailureError", err)
	}
	if q := ft.announces()[0]; q.Get("key") != "abc" || q.Get("info_hash") != string(make([]byte, 20)) {
		t.Fatalf("query %v: existing parameters or escaping lost", q)
	}
}
