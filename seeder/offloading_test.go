package seeder

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
	"github.com/bitorigin/bitorigin/seeder/swarm"
)

// haves reads until n have messages arrived and returns their pieces;
// another announcement of pieces (have all, a bitfield) fails the test.
func haves(t *testing.T, p *testPeer, n int) map[uint32]bool {
	t.Helper()
	got := map[uint32]bool{}
	for len(got) < n {
		m, err := p.r.ReadMessage()
		if err != nil {
			t.Fatalf("after %d of %d haves: %v", len(got), n, err)
		}
		switch m := m.(type) {
		case *peerwire.Have:
			got[m.Index] = true
		case *peerwire.HaveAll, *peerwire.Bitfield:
			t.Fatalf("%T under offload", m)
		}
	}
	return got
}

// offloadingSeeder serves a torrent of the given number of 16 KiB pieces
// with offload on, its metrics and status collector in reg.
func offloadingSeeder(t *testing.T, pieces int) (*prometheus.Registry, *content.Torrent, *Seeder, string) {
	t.Helper()
	reg, m := newMetricsForTest(t)
	tor, _ := contenttest.Complete(t, pieces*16<<10, 16<<10)
	s, addr := serveTest(t, Config{Offload: true, Metrics: m}, tor)
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	return reg, tor, s, addr
}

// emptyLeecher connects a Fast peer that, once the offloading seeder has
// said it has none, says it has none either.
func emptyLeecher(t *testing.T, addr string, tor *content.Torrent) *testPeer {
	t.Helper()
	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.HaveNone](p)
	p.send(&peerwire.HaveNone{})
	return p
}

func TestOffloadRevealsDistinctPiecesAndServesOnlyThose(t *testing.T) {
	reg, tor, s, addr := offloadingSeeder(t, 8)
	a := connectPeer(t, addr, tor, fastReserved())
	hs, err := peerwire.ParseExtensionHandshake(waitFor[*peerwire.Extended](a))
	if err != nil || hs.UploadOnly {
		t.Fatalf("extension handshake %+v, %v: want no upload_only under offload", hs, err)
	}
	waitFor[*peerwire.HaveNone](a)
	a.send(&peerwire.HaveNone{})
	gotA := haves(t, a, 3) // alone: the lone window

	b := emptyLeecher(t, addr, tor)
	gotB := haves(t, b, 2)
	for i := range gotB {
		if gotA[i] {
			t.Fatalf("piece %d revealed to both peers: %v and %v", i, gotA, gotB)
		}
	}

	a.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](a)
	var mine, theirs uint32
	for i := range gotA {
		mine = i
	}
	for i := range gotB {
		theirs = i
	}
	a.send(&peerwire.Request{Index: theirs, Length: 16 << 10}, &peerwire.Request{Index: mine, Length: 16 << 10})
	rej := waitFor[*peerwire.Reject](a)
	if rej.Index != theirs {
		t.Fatalf("reject for piece %d, want %d (not revealed to this peer)", rej.Index, theirs)
	}
	if pc := waitFor[*peerwire.Piece](a); pc.Index != mine {
		t.Fatalf("piece %d served, want %d", pc.Index, mine)
	}

	hash, name := tor.InfoHash().String(), tor.Name()
	if got := metricValue(t, reg, "bitorigin_seeder_offload_offered_pieces_total", "info_hash", hash, "name", name); got != 5 {
		t.Fatalf("offered pieces %v, want 5", got)
	}
	if got := metricValue(t, reg, "bitorigin_seeder_requests_rejected_total", "reason", "not_offered"); got != 1 {
		t.Fatalf("not_offered rejects %v, want 1", got)
	}
	metricValue(t, reg, "bitorigin_seeder_swarm_copies", "info_hash", hash, "name", name)
	metricValue(t, reg, "bitorigin_seeder_offload_withheld_pieces", "info_hash", hash, "name", name)
	lint(t, reg)
	if st := s.Status()[0].Offload; st == nil || st.Offered != 5 {
		t.Fatalf("status %+v, want 5 pieces offered", st)
	}
}

// aria2c sends no have for a piece we announced: the seeder must count a
// piece it sent whole as the peer's, or the peer never gets the next ones.
func TestOffloadRevealsMoreToAPeerThatNeverSaysHave(t *testing.T) {
	const pieces = 12
	tor, _ := contenttest.Complete(t, pieces*16<<10, 16<<10)
	_, addr := serveTest(t, Config{Offload: true}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.HaveNone](p)
	p.send(&peerwire.HaveNone{}, &peerwire.Interested{})
	got := map[uint32]bool{}
	asked := map[uint32]bool{}
	unchoked := false
	for len(got) < pieces {
		m, err := p.r.ReadMessage()
		if err != nil {
			t.Fatalf("with %d of %d pieces: %v", len(got), pieces, err)
		}
		switch m := m.(type) {
		case *peerwire.Unchoke:
			unchoked = true
		case *peerwire.Have:
			asked[m.Index] = false
		case *peerwire.Piece:
			got[m.Index] = true
		}
		if !unchoked {
			continue
		}
		for i, done := range asked {
			if !done {
				p.send(&peerwire.Request{Index: i, Length: 16 << 10})
				asked[i] = true
			}
		}
	}
}

func TestAPeerAskingForPiecesNeverRevealedIsDropped(t *testing.T) {
	tor, _ := contenttest.Complete(t, 8*16<<10, 16<<10)
	_, addr := serveTest(t, Config{Offload: true, MaxBadRequests: 20}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.HaveNone](p)
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	// No bitfield yet: nothing was revealed, so every request is bad.
	var msgs []peerwire.Message
	for range 30 {
		msgs = append(msgs, &peerwire.Request{Index: 5, Length: 16 << 10})
	}
	p.send(msgs...)
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, err := p.r.ReadMessage()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("still connected after 30 requests for pieces never revealed (max 20 bad)")
		}
		if err != nil {
			return // dropped
		}
	}
}

// Two leechers, each revealed distinct pieces: once the first has all of
// its own and the origin sends nothing, it is revealed the other's piece
// at once, without waiting to starve, and the status counts it.
func TestAnIdleOriginRevealsTheOtherLeechersPieceAtOnce(t *testing.T) {
	reg, tor, s, addr := offloadingSeeder(t, 4)
	a := emptyLeecher(t, addr, tor)
	gotA := haves(t, a, 3) // alone: the lone window
	b := emptyLeecher(t, addr, tor)
	gotB := haves(t, b, 1) // the last fresh piece
	var theirs uint32
	for i := range gotB {
		theirs = i
	}

	// b asks for nothing: once a has its three, the origin is idle.
	a.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](a)
	for i := range gotA {
		a.send(&peerwire.Request{Index: i, Length: 16 << 10})
	}
	if got := haves(t, a, 1); !got[theirs] {
		t.Fatalf("revealed %v to a, want b's piece %d", got, theirs)
	}
	st := s.Status()[0].Offload
	if st == nil || st.IdleOffered != 1 || st.Offered != 5 {
		t.Fatalf("status %+v: want 5 pieces offered, 1 of them because the origin was idle (not a starving leecher's)", st)
	}
	hash, name := tor.InfoHash().String(), tor.Name()
	if got := metricValue(t, reg, "bitorigin_seeder_offload_idle_offered_pieces_total", "info_hash", hash, "name", name); got != 1 {
		t.Fatalf("idle offered pieces %v, want 1", got)
	}
	lint(t, reg)
}

// The uplink and --upload-rate are the seeder's: while another torrent's
// peer is being served, the origin is not idle for this one. The leecher
// that has its pieces waits for the swarm, and is fed b's piece only once it
// starves, not at once as by an idle origin.
func TestAnotherTorrentsTransferKeepsTheUplinkBusy(t *testing.T) {
	reg, m := newMetricsForTest(t)
	y, _ := contenttest.Complete(t, 4*16<<10, 16<<10)
	x, _ := contenttest.Complete(t, 4*256<<10, 256<<10)
	// 64 KiB/s: x's three pieces keep the uplink busy for 12 s.
	s, addr := serveTest(t, Config{Offload: true, Metrics: m, UploadRate: 64 << 10}, y, x)
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	p := emptyLeecher(t, addr, x)
	gotP := haves(t, p, 3)
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	for i := range gotP {
		for b := range uint32(16) {
			p.send(&peerwire.Request{Index: i, Begin: b * 16 << 10, Length: 16 << 10})
		}
	}
	waitUplink(t, s, false)

	a := emptyLeecher(t, addr, y)
	gotA := haves(t, a, 3)
	b := emptyLeecher(t, addr, y)
	haves(t, b, 1)
	a.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](a)
	for i := range gotA {
		a.send(&peerwire.Request{Index: i, Length: 16 << 10})
	}
	haves(t, a, 1)
	st := statusOf(t, s, y)
	if st.IdleOffered != 0 || st.Offered != 5 {
		t.Fatalf("status %+v: want 5 pieces offered, none because the origin was idle: x's peer is being served", st)
	}
	if got := metricValue(t, reg, "bitorigin_seeder_busy_peers"); got != 1 {
		t.Fatalf("busy peers %v while x's peer waits for its blocks, want 1", got)
	}
	// Closing x's peer leaves no connection busy.
	p.nc.Close()
	waitUplink(t, s, true)
	if got := metricValue(t, reg, "bitorigin_seeder_busy_peers"); got != 0 {
		t.Fatalf("busy peers %v once the busy one closed, want 0", got)
	}
	lint(t, reg)
}

// waitUplink waits up to 10 s for the seeder's uplink to be idle, or busy.
func waitUplink(t *testing.T, s *Seeder, idle bool) {
	t.Helper()
	if !testenv.Poll(10*time.Second, func() bool { return s.peerCfg.Uplink.Idle() == idle }) {
		t.Fatalf("after 10 s, %d connections busy; want the uplink idle %v", s.peerCfg.Uplink.Busy(), idle)
	}
}

// statusOf is the offload status of one of the seeder's torrents.
func statusOf(t *testing.T, s *Seeder, tor *content.Torrent) swarm.OffloadStatus {
	t.Helper()
	for _, st := range s.Status() {
		if st.InfoHash == tor.InfoHash().String() && st.Offload != nil {
			return *st.Offload
		}
	}
	t.Fatalf("no offload status for %s", tor.Name())
	return swarm.OffloadStatus{}
}
