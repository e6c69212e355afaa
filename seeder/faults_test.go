package seeder

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// faultPeer is a Fast peer that remembers the have messages it got.
type faultPeer struct {
	*testPeer
	haves map[uint32]bool
}

func unchokedFastPeer(t *testing.T, addr string, tor *content.Torrent) *faultPeer {
	t.Helper()
	p := &faultPeer{connectPeer(t, addr, tor, fastReserved()), map[uint32]bool{}}
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p.testPeer)
	return p
}

// ask requests a block and returns its answer: *peerwire.Piece or
// *peerwire.Reject.
func (p *faultPeer) ask(r peerwire.Request) peerwire.Message {
	p.t.Helper()
	p.send(&r)
	for {
		m, err := p.r.ReadMessage()
		if err != nil {
			p.t.Fatalf("waiting for the answer to %+v: %v", r, err)
		}
		switch m := m.(type) {
		case *peerwire.Have:
			p.haves[m.Index] = true
		case *peerwire.Piece:
			if m.Index == r.Index && m.Begin == r.Begin {
				return m
			}
		case *peerwire.Reject:
			if peerwire.Request(*m) == r {
				return m
			}
		}
	}
}

// waitHave reads until a have for piece i arrived.
func (p *faultPeer) waitHave(i uint32) {
	p.t.Helper()
	for !p.haves[i] {
		m, err := p.r.ReadMessage()
		if err != nil {
			p.t.Fatalf("waiting for have %d: %v", i, err)
		}
		if h, ok := m.(*peerwire.Have); ok {
			p.haves[h.Index] = true
		}
	}
}

// mustServe asks for a block and fails unless it comes, with want's bytes.
func (p *faultPeer) mustServe(r peerwire.Request, want []byte) {
	p.t.Helper()
	m := p.ask(r)
	pc, ok := m.(*peerwire.Piece)
	if !ok {
		p.t.Fatalf("request %+v: got %T, want the block", r, m)
	}
	if !bytes.Equal(pc.Block, want) {
		p.t.Fatalf("request %+v: wrong bytes", r)
	}
}

// mustReject asks for a block and fails unless it is rejected.
func (p *faultPeer) mustReject(r peerwire.Request) {
	p.t.Helper()
	if m, ok := p.ask(r).(*peerwire.Reject); !ok {
		p.t.Fatalf("request %+v: got %T, want a reject", r, m)
	}
}

func TestFileRewrittenWhileServingIsNeverServedAndHealsOnceRepaired(t *testing.T) {
	const pl = 32 << 10
	tor, data := contenttest.Complete(t, 8*pl+1000, pl)
	reg, m := newMetricsForTest(t)
	_, addr := serveTest(t, Config{Metrics: m}, tor)
	p := unchokedFastPeer(t, addr, tor)
	block := func(i uint32) peerwire.Request { return peerwire.Request{Index: i, Begin: 0, Length: 16 << 10} }
	p.mustServe(block(2), data[2*pl:2*pl+16<<10])

	// Rewrite a block of piece 3 in place, same size. The file was read
	// just now: the change shows at the first read once the check interval
	// has passed.
	path := filepath.Join(tor.Root, "file.bin")
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xee}, 16<<10), 3*pl); err != nil {
		t.Fatal(err)
	}
	f.Close()
	time.Sleep(1100 * time.Millisecond)
	p.mustReject(block(3))
	// Every piece of the file was verified again; all but piece 3 passed
	// and are served again, announced with have.
	for i := range tor.NumPieces() {
		if i != 3 {
			p.waitHave(i)
		}
	}
	if p.haves[3] {
		t.Fatal("have for the rewritten piece")
	}
	p.mustServe(block(2), data[2*pl:2*pl+16<<10])
	for range 3 {
		p.mustReject(block(3))
	}
	if tor.Complete() || tor.Verified() != tor.NumPieces()-1 {
		t.Fatalf("%d of %d pieces verified, want all but one", tor.Verified(), tor.NumPieces())
	}

	// The operator puts the data back: the seeder notices without any
	// request (nobody reads piece 3's file for it), and serves piece 3
	// again.
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p.waitHave(3)
	p.mustServe(block(3), data[3*pl:3*pl+16<<10])
	if !tor.Complete() {
		t.Fatal("not complete after the repair")
	}
	if metricValue(t, reg, "bitorigin_seeder_invalidations_total") != 2 ||
		metricValue(t, reg, "bitorigin_seeder_rechecked_pieces_total", "result", "bad") != 1 ||
		metricValue(t, reg, "bitorigin_seeder_rechecked_pieces_total", "result", "good") != float64(2*tor.NumPieces()-1) ||
		metricValue(t, reg, "bitorigin_seeder_requests_rejected_total", "reason", "not_verified")+
			metricValue(t, reg, "bitorigin_seeder_requests_rejected_total", "reason", "read_error") != 4 {
		t.Fatal("metrics do not show two invalidations, one bad piece and the rejects")
	}
	lint(t, reg)
}

func TestTruncatedFileIsRejectedBeyondItsEndWhileTheRestIsServed(t *testing.T) {
	const pl = 32 << 10
	tor, data := contenttest.Complete(t, 8*pl+1000, pl)
	reg, m := newMetricsForTest(t)
	_, addr := serveTest(t, Config{Metrics: m}, tor)
	p := unchokedFastPeer(t, addr, tor)
	block := func(i uint32) peerwire.Request { return peerwire.Request{Index: i, Begin: 0, Length: 16 << 10} }
	p.mustServe(block(6), data[6*pl:6*pl+16<<10])

	// Truncated to three and a half pieces: no need to wait, the short
	// read itself shows the change, and no zeros are sent for the
	// missing bytes.
	if err := os.Truncate(filepath.Join(tor.Root, "file.bin"), 3*pl+pl/2); err != nil {
		t.Fatal(err)
	}
	p.mustReject(block(6))
	if metricValue(t, reg, "bitorigin_seeder_requests_rejected_total", "reason", "read_error") != 1 {
		t.Fatal("the failed read is not counted")
	}
	// The pieces still whole pass verification again; the others do not.
	for i := range uint32(3) {
		p.waitHave(i)
	}
	p.mustServe(block(1), data[pl:pl+16<<10])
	for _, i := range []uint32{3, 6, 8} {
		p.mustReject(block(i))
	}
	if tor.Verified() != 3 {
		t.Fatalf("%d pieces verified, want 3", tor.Verified())
	}
	// A new peer hears only of the pieces served now.
	q := connectPeer(t, addr, tor, peerwire.Reserved{})
	if bf := waitFor[*peerwire.Bitfield](q); !bytes.Equal(bf.Bits, []byte{0xe0, 0}) {
		t.Fatalf("bitfield %08b, want pieces 0-2", bf.Bits)
	}
}

// flakyTracker answers announces every 100 ms, or fails as an unreachable
// tracker does while down, recording when.
type flakyTracker struct {
	mu       sync.Mutex
	down     bool
	failures []time.Time
	answered int
}

func (f *flakyTracker) Announce(context.Context, string, *announcer.Request) (*announcer.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.failures = append(f.failures, time.Now())
		return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	}
	f.answered++
	return &announcer.Response{Interval: 100 * time.Millisecond}, nil
}

func (f *flakyTracker) state() (failures []time.Time, answered int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.failures), f.answered
}

func (f *flakyTracker) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func TestUnreachableTrackerIsRetriedWithGrowingBackoffWhilePeersAreServed(t *testing.T) {
	const pl = 32 << 10
	tor, data := contenttest.Complete(t, 8*pl, pl)
	reg, m := newMetricsForTest(t)
	tr := &flakyTracker{}
	var logs testenv.LogBuffer
	_, addr := serveTest(t, Config{
		Metrics:            m,
		Logger:             logs.Logger(),
		Trackers:           [][]string{{"flaky://tracker"}},
		Clients:            map[string]announcer.Client{"flaky": tr},
		AnnounceMinBackoff: 100 * time.Millisecond,
		AnnounceMaxBackoff: 5 * time.Second,
	}, tor)
	waitUntil(t, "the first announces", func() bool { _, n := tr.state(); return n >= 2 })
	before := unchokedFastPeer(t, addr, tor)
	block := func(i uint32) peerwire.Request { return peerwire.Request{Index: i, Length: 16 << 10} }
	before.mustServe(block(0), data[:16<<10])

	tr.setDown(true)
	waitUntil(t, "four failed announces", func() bool { f, _ := tr.state(); return len(f) >= 4 })
	// The peer connected before keeps being served, and a new one is
	// accepted and served.
	before.mustServe(block(1), data[pl:pl+16<<10])
	after := unchokedFastPeer(t, addr, tor)
	after.mustServe(block(7), data[7*pl:7*pl+16<<10])
	// Each wait is longer than the one before: 100 ms doubling, with at
	// most 25% jitter either way.
	failures, _ := tr.state()
	for i := 2; i < 4; i++ {
		prev, gap := failures[i-1].Sub(failures[i-2]), failures[i].Sub(failures[i-1])
		if gap <= prev {
			t.Fatalf("retry %d after %s, retry %d after %s: the back-off does not grow", i-1, prev, i, gap)
		}
	}
	if got := metricValue(t, reg, "bitorigin_seeder_announces_total", "result", "error"); got < 4 {
		t.Fatalf("announces_total{result=error} = %v, want at least 4", got)
	}
	if !strings.Contains(logs.String(), `msg="announce failed on every tracker"`) {
		t.Fatal("no log of the failed announces")
	}

	// Back: the next retry gets through, and regular announces resume.
	_, answered := tr.state()
	tr.setDown(false)
	waitUntil(t, "announces after the outage", func() bool { _, n := tr.state(); return n >= answered+2 })
	after.mustServe(block(3), data[3*pl:3*pl+16<<10])
}
