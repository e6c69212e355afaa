package announcer

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/tracker/udpfront"
	"github.com/bitorigin/bitorigin/udpwire"
)

// startUDPTracker runs our real UDP tracker frontend on loopback.
func startUDPTracker(t *testing.T, allow tracker.Allower) string {
	t.Helper()
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tr, err := tracker.New(tracker.Config{Interval: 600 * time.Second, MinInterval: 60 * time.Second, Jitter: -1}, store, allow)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := udpfront.New(tr, udpfront.Config{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(conn); close(done) }()
	t.Cleanup(func() { conn.Close(); <-done })
	return "udp://" + conn.LocalAddr().String() + "/announce"
}

func udpReq(id string, port uint16, left int64, ev Event) *Request {
	r := &Request{Port: port, Left: left, Event: ev, NumWant: 50}
	copy(r.InfoHash[:], bytes.Repeat([]byte{9}, 20))
	copy(r.PeerID[:], id)
	return r
}

func TestUDPClientAgainstOurTracker(t *testing.T) {
	url := startUDPTracker(t, nil)
	c := &UDPClient{Timeout: time.Second}
	ctx := context.Background()
	if _, err := c.Announce(ctx, url, udpReq("-BO0001-seeder000000", 7001, 0, EventStarted)); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Announce(ctx, url, udpReq("-BO0001-leecher00000", 7002, 10, EventStarted))
	if err != nil {
		t.Fatal(err)
	}
	want := netip.MustParseAddrPort("127.0.0.1:7001")
	if resp.Interval != 600*time.Second || resp.Seeders != 1 || resp.Leechers != 1 || len(resp.Peers) != 1 || resp.Peers[0] != want {
		t.Fatalf("answer %+v, want the seeder %s", resp, want)
	}
	if _, err := c.Announce(ctx, url, udpReq("-BO0001-leecher00000", 7002, 10, EventStopped)); err != nil {
		t.Fatal(err)
	}
	resp, err = c.Announce(ctx, url, udpReq("-BO0001-seeder000000", 7001, 0, EventNone))
	if err != nil || resp.Leechers != 0 {
		t.Fatalf("after stopped: %+v %v", resp, err)
	}
}

type denyAll struct{}

func (denyAll) Allowed(tracker.InfoHash) bool { return false }

func TestUDPClientReportsAFailureReason(t *testing.T) {
	url := startUDPTracker(t, denyAll{})
	_, err := (&UDPClient{Timeout: time.Second}).Announce(context.Background(), url, udpReq("p", 1, 0, EventStarted))
	var fe *FailureError
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "unregistered") || fe.URL != url {
		t.Fatalf("err = %v, want a FailureError from %s", err, url)
	}
}

// TestUDPClientRetransmitsAndReconnects has a fake tracker drop the first
// connect and refuse the first connection ID.
func TestUDPClientRetransmitsAndReconnects(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var connects, announces atomic.Int32
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			h, err := udpwire.ParseHeader(buf[:n])
			if err != nil {
				continue
			}
			switch h.Action {
			case udpwire.ActionConnect:
				if connects.Add(1) == 1 {
					continue // lost: the client must send again
				}
				conn.WriteToUDPAddrPort(udpwire.AppendConnectResponse(nil, h.TransactionID, uint64(connects.Load())), from)
			case udpwire.ActionAnnounce:
				if announces.Add(1) == 1 {
					conn.WriteToUDPAddrPort(udpwire.AppendError(nil, h.TransactionID, "bad connection id"), from)
					continue
				}
				conn.WriteToUDPAddrPort(udpwire.AppendAnnounceResponse(nil, &udpwire.AnnounceResponse{TransactionID: h.TransactionID, Interval: 5, Peers: []byte{10, 0, 0, 1, 0, 80}}), from)
			}
		}
	}()
	c := &UDPClient{Timeout: 100 * time.Millisecond, Retries: 2}
	resp, err := c.Announce(context.Background(), "udp://"+conn.LocalAddr().String(), udpReq("p", 1, 0, EventStarted))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Peers) != 1 || resp.Interval != 5*time.Second {
		t.Fatalf("answer %+v", resp)
	}
	if connects.Load() != 3 || announces.Load() != 2 {
		t.Fatalf("%d connects and %d announces, want 3 (one lost, one after the refused ID) and 2", connects.Load(), announces.Load())
	}
}

func TestUDPClientGivesUpWithinItsRetries(t *testing.T) {
	// A socket that never answers.
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &UDPClient{Timeout: 50 * time.Millisecond, Retries: 2}
	start := time.Now()
	_, err = c.Announce(context.Background(), "udp://"+conn.LocalAddr().String(), udpReq("p", 1, 0, EventStarted))
	if err == nil {
		t.Fatal("announce to a silent tracker succeeded")
	}
	// 50 + 100 + 200 ms.
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Fatalf("gave up after %s, want about 350ms", d)
	}
	if _, err := c.Announce(context.Background(), "http://x/announce", udpReq("p", 1, 0, EventStarted)); err == nil {
		t.Fatal("http URL accepted by the UDP client")
	}
}

// A cancelled announce to a silent UDP tracker returns at once, not after
// the retransmission wait: shutdown and Remove wait for it.
func TestUDPAnnounceReturnsAtOnceWhenCancelled(t *testing.T) {
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := &UDPClient{Timeout: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Announce(ctx, "udp://"+silent.LocalAddr().String(), udpReq("-BO0001-seeder000000", 7001, 0, EventStarted))
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // the connect request is out
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled announce: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled announce still waiting for the tracker")
	}
}
