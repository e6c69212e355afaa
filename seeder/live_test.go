package seeder

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// eventLog records, in order, what the trackers' admin API and announce
// endpoint were asked.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// waitEvents waits until the log holds want, in order, as a prefix.
func (l *eventLog) waitEvents(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := l.get()
		if len(got) >= len(want) && slices.Equal(got[:len(want)], want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %q, want %q first", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// loggingTracker is an announce client that records each event.
type loggingTracker struct{ log *eventLog }

func (lt loggingTracker) Announce(_ context.Context, _ string, req *announcer.Request) (*announcer.Response, error) {
	ev := req.Event.String()
	if ev == "" {
		ev = "regular"
	}
	lt.log.add("announce " + ev)
	return &announcer.Response{Interval: time.Hour}, nil
}

func TestAddedTorrentIsRegisteredBeforeAnnouncedAndRemovedOneUnregisteredAfterStopped(t *testing.T) {
	var events eventLog
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sesame" || !strings.HasPrefix(r.URL.Path, "/admin/torrents/") {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		events.add(r.Method + " " + strings.TrimPrefix(r.URL.Path, "/admin/torrents/"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer admin.Close()
	cfg := Config{
		Trackers:  [][]string{{"log://tracker"}},
		Clients:   map[string]announcer.Client{"log": loggingTracker{&events}},
		Registrar: &announcer.Registrar{URLs: []string{admin.URL}, Token: "sesame"},
	}
	s, addr := serveTest(t, cfg)
	tor, data := contenttest.Complete(t, 100000, 32<<10)
	hash := tor.InfoHash().String()
	if err := s.Add(tor); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(tor); err == nil {
		t.Fatal("the same torrent added twice")
	}
	events.waitEvents(t, "PUT "+hash, "announce started")
	if s.Torrent("file.bin") != tor || len(s.Status()) != 1 {
		t.Fatalf("added torrent not listed: %+v", s.Status())
	}

	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.HaveAll](p)
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	p.send(&peerwire.Request{Index: 0, Begin: 0, Length: 16 << 10})
	if pc := waitFor[*peerwire.Piece](p); string(pc.Block) != string(data[:16<<10]) {
		t.Fatal("wrong block")
	}

	if err := s.Remove(context.Background(), tor.InfoHash()); err != nil {
		t.Fatal(err)
	}
	// Remove returned: the peer is gone, stopped was sent, then the
	// torrent was unregistered.
	if got, want := events.get(), []string{"PUT " + hash, "announce started", "announce stopped", "DELETE " + hash}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := p.r.ReadMessage(); err != nil {
			break
		}
	}
	if s.Torrent("file.bin") != nil || len(s.Status()) != 0 {
		t.Fatalf("removed torrent still listed: %+v", s.Status())
	}
	if err := s.Remove(context.Background(), tor.InfoHash()); err == nil {
		t.Fatal("removed twice")
	}
	// A peer asking for it now is refused at the handshake.
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	h := peerwire.Handshake{InfoHash: tor.InfoHash(), PeerID: [20]byte{1}}
	nc.Write(h.AppendTo(nil))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := nc.Read(make([]byte, 68)); err == nil {
		t.Fatalf("withdrawn torrent answered the handshake with %d bytes", n)
	}
}

// forgetfulTracker refuses a torrent as unknown until it is registered.
type forgetfulTracker struct {
	log        *eventLog
	registered func() bool
}

func (ft forgetfulTracker) Announce(_ context.Context, u string, req *announcer.Request) (*announcer.Response, error) {
	if !ft.registered() {
		ft.log.add("refused")
		return nil, &announcer.FailureError{URL: u, Reason: "unregistered torrent: this tracker serves only the publisher's torrents"}
	}
	ft.log.add("announce " + req.Event.String())
	return &announcer.Response{Interval: time.Hour}, nil
}

func TestAnnounceRefusedAsUnknownRegistersAgainAndRetries(t *testing.T) {
	var (
		events eventLog
		mu     sync.Mutex
		known  bool
	)
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		known = r.Method == http.MethodPut
		mu.Unlock()
		events.add(r.Method)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer admin.Close()
	isKnown := func() bool { mu.Lock(); defer mu.Unlock(); return known }
	s, err := New(Config{Registrar: &announcer.Registrar{URLs: []string{admin.URL}, Token: "t"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.reregistering(map[string]announcer.Client{"x": forgetfulTracker{&events, isKnown}})["x"]
	req := &announcer.Request{Event: announcer.EventStarted}
	if _, err := c.Announce(context.Background(), "x://t", req); err != nil {
		t.Fatal(err)
	}
	if got, want := events.get(), []string{"refused", "PUT", "announce started"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	// A stopped announce for an unknown torrent is not worth registering.
	mu.Lock()
	known = false
	mu.Unlock()
	if _, err := c.Announce(context.Background(), "x://t", &announcer.Request{Event: announcer.EventStopped}); err == nil {
		t.Fatal("stopped announce to a forgetful tracker succeeded")
	}
	if got := events.get(); len(got) != 4 || got[3] != "refused" {
		t.Fatalf("events %q", got)
	}
}
