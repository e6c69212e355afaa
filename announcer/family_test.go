package announcer

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// newFakeTracker6 is newFakeTracker on [::1].
func newFakeTracker6(t *testing.T, reply func(n int, q url.Values) (int, string)) *fakeTracker {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Fatalf("IPv6 loopback: %v", err)
	}
	ft := newFakeTracker(t, reply)
	ft.Server.Close()
	srv := httptest.NewUnstartedServer(ft.Server.Config.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	ft.Server = srv
	return ft
}

func TestEachFamilyAnnouncesOverItsOwnAddresses(t *testing.T) {
	ok := func(int, url.Values) (int, string) { return 200, "d8:intervali60e5:peers0:e" }
	v4 := newFakeTracker(t, ok)
	v6 := newFakeTracker6(t, ok)
	for _, f := range []Family{FamilyIPv4, FamilyIPv6} {
		cfg := config([]string{v6.url()}, []string{v4.url()})
		cfg.Family = f
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.announce(context.Background(), EventStarted); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if len(v4.announces()) != 1 || len(v6.announces()) != 1 {
		t.Fatalf("the IPv4 tracker heard %d announces and the IPv6 one %d, want one each", len(v4.announces()), len(v6.announces()))
	}
}

func TestATrackerWithoutAnAddressOfTheFamilyIsNoRoute(t *testing.T) {
	hc := NewHTTPClient(0)
	_, err := hc.Announce(context.Background(), "http://127.0.0.1:1/announce", &Request{Family: FamilyIPv6})
	if !errors.Is(err, ErrNoRoute) {
		t.Fatalf("HTTP over IPv6 to 127.0.0.1: %v, want ErrNoRoute", err)
	}
	_, err = NewUDPClient().Announce(context.Background(), "udp://[::1]:1", &Request{Family: FamilyIPv4})
	if !errors.Is(err, ErrNoRoute) {
		t.Fatalf("UDP over IPv4 to ::1: %v, want ErrNoRoute", err)
	}
	if _, err := New(Config{Tiers: [][]string{{"http://127.0.0.1:1/announce"}}, Clients: map[string]Client{"http": hc}, Family: FamilyIPv6}); !errors.Is(err, ErrNoRoute) {
		t.Fatalf("an IPv6 loop with only an IPv4 tracker: %v, want ErrNoRoute", err)
	}
}

func TestNoRouteIsNotReportedAsAFailure(t *testing.T) {
	var logs testenv.LogBuffer
	cfg := config([]string{"http://no-route.invalid/announce"})
	cfg.Clients = map[string]Client{"http": noRouteClient{}}
	cfg.Logger = logs.Logger()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	waitFor(t, "the announce", func() bool { return strings.Contains(logs.String(), "no tracker reachable") })
	cancel()
	<-done
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("warned about a family with no route:\n%s", logs.String())
	}
}

type noRouteClient struct{}

func (noRouteClient) Announce(context.Context, string, *Request) (*Response, error) {
	return nil, ErrNoRoute
}
