package swarm

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

var (
	v1 = metainfo.InfoHash{1}
	v2 = metainfo.InfoHash{2}
)

func newTestSwarm(maxConns, maxDials int) *Swarm {
	return New(Config{InfoHash: v1, Pieces: 4, Served: func(uint32) bool { return true }, MaxConns: maxConns, MaxDials: maxDials})
}

func notSelf(netip.AddrPort) bool { return false }

func addrs(n int) []netip.AddrPort {
	var out []netip.AddrPort
	for i := range n {
		out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 6881))
	}
	return out
}

func TestDueDialsWithinTheRoomAndTheTorrentsLimits(t *testing.T) {
	now := time.Unix(1000, 0)
	sw := newTestSwarm(200, 3)
	sw.AddCandidates(v1, addrs(10), notSelf, now, 0)
	if got := sw.Due(now, 2); len(got) != 2 {
		t.Fatalf("%d dials with room for 2", len(got))
	}
	if got := sw.Due(now, 100); len(got) != 1 {
		t.Fatalf("%d more dials, want 1: at most MaxDials at a time", len(got))
	}
	if dials, cands := sw.Dials(); dials != 3 || cands != 10 {
		t.Fatalf("%d dials, %d candidates; want 3 and 10", dials, cands)
	}
}

func TestCandidatesSkipOurselves(t *testing.T) {
	now := time.Unix(1000, 0)
	sw := newTestSwarm(200, 50)
	peers := addrs(3)
	sw.AddCandidates(v1, peers, func(a netip.AddrPort) bool { return a == peers[1] }, now, 0)
	for _, d := range sw.Due(now, 100) {
		if d.Addr == peers[1] {
			t.Fatal("dialled our own address")
		}
	}
}

// A hybrid's peers are dialled with the hash the tracker named them
// under: one that knows only the v2 swarm may not know the v1 hash.
func TestAPeerNamedUnderTheV2HashIsDialledWithIt(t *testing.T) {
	now := time.Unix(1000, 0)
	sw := newTestSwarm(200, 50)
	peers := addrs(2)
	sw.AddCandidates(v1, peers[:1], notSelf, now, 0)
	sw.AddCandidates(v2, peers[1:], notSelf, now, 0)
	got := map[netip.AddrPort]metainfo.InfoHash{}
	for _, d := range sw.Due(now, 100) {
		got[d.Addr] = d.InfoHash
		sw.DialDone(d.Addr, now)
	}
	if got[peers[0]] != v1 || got[peers[1]] != v2 {
		t.Fatalf("dialled with %v, want v1 then v2", got)
	}
}

func TestJoinRefusesADuplicatePeerAndAFullSwarm(t *testing.T) {
	sw := newTestSwarm(2, 50)
	a, b, c := pipeConn(t, 'a'), pipeConn(t, 'b'), pipeConn(t, 'c')
	if err := sw.Join(a, 1); err != nil {
		t.Fatal(err)
	}
	if err := sw.Join(pipeConn(t, 'a'), 2); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("the same peer ID again: %v, want ErrDuplicate", err)
	}
	if err := sw.Join(b, 3); err != nil {
		t.Fatal(err)
	}
	if err := sw.Join(c, 4); !errors.Is(err, ErrFull) {
		t.Fatalf("a third peer in a swarm of 2: %v, want ErrFull", err)
	}
	sw.Leave(a)
	if err := sw.Join(c, 4); err != nil || sw.Len() != 2 {
		t.Fatalf("after one left: %v, %d peers", err, sw.Len())
	}
}

// pipeConn returns a connection past its handshake with a peer whose ID
// starts with id, over an in-memory pipe.
func pipeConn(t *testing.T, id byte) *peer.Conn {
	t.Helper()
	ours, theirs := net.Pipe()
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	tor := &peer.Torrent{Name: "test", Pieces: 4}
	cfg := &peer.Config{HandshakeTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	type result struct {
		c   *peer.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := peer.Accept(context.Background(), cfg, ours, func(metainfo.InfoHash) *peer.Torrent { return tor })
		done <- result{c, err}
	}()
	h := peerwire.Handshake{InfoHash: v1, PeerID: [20]byte{id}}
	go theirs.Write(h.AppendTo(nil))
	if _, err := peerwire.ReadHandshake(bufio.NewReader(theirs)); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.c
}
