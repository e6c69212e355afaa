package seeder

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// countingTracker answers every announce with no peers and counts them by
// the family of the connection they came over.
type countingTracker struct {
	mu  sync.Mutex
	got int
}

func (ct *countingTracker) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	ct.mu.Lock()
	ct.got++
	ct.mu.Unlock()
	w.Write([]byte("d8:intervali60e5:peers0:e"))
}

func (ct *countingTracker) count() int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.got
}

func startTrackerOn(t *testing.T, network, addr string) (*countingTracker, string) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, addr, err)
	}
	ct := &countingTracker{}
	srv := httptest.NewUnstartedServer(ct)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return ct, srv.URL + "/announce"
}

// A seeder listening on both families announces over each, so that the
// tracker learns both its addresses (BEP 7), and /torrents says so.
func TestADualStackSeederAnnouncesOverBothFamilies(t *testing.T) {
	v4, url4 := startTrackerOn(t, "tcp4", "127.0.0.1:0")
	v6, url6 := startTrackerOn(t, "tcp6", "[::1]:0")
	tor, _ := contenttest.Complete(t, 64<<10, 16<<10)
	s, err := New(Config{Trackers: [][]string{{url4}, {url6}}}, []*content.Torrent{tor})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	waitUntil(t, "an answer over each family", func() bool {
		a := s.Status()[0].Announced
		return a["ipv4"] == url4 && a["ipv6"] == url6
	})
	if v4.count() != 1 || v6.count() != 1 {
		t.Fatalf("announces: %d over IPv4, %d over IPv6; want one each", v4.count(), v6.count())
	}
}

func TestTheListenerDecidesTheFamilies(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want []announcer.Family
	}{
		{"127.0.0.1:0", []announcer.Family{announcer.FamilyIPv4}},
		// Go listens on both families for "tcp" and the IPv4 wildcard.
		{"0.0.0.0:0", []announcer.Family{announcer.FamilyIPv4, announcer.FamilyIPv6}},
		{"[::1]:0", []announcer.Family{announcer.FamilyIPv6}},
		{"[::]:0", []announcer.Family{announcer.FamilyIPv4, announcer.FamilyIPv6}},
	} {
		ln, err := net.Listen("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		got := listenerFamilies(ln.Addr())
		ln.Close()
		if len(got) != len(tt.want) || got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1] {
			t.Errorf("%s: families %v, want %v", tt.addr, got, tt.want)
		}
	}
}
