package seeder

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

func fastReserved() peerwire.Reserved {
	var r peerwire.Reserved
	r.SetFast()
	r.SetExtended()
	return r
}

func TestFastPeerGetsHaveAllAndItsBlocks(t *testing.T) {
	tor, data := contenttest.Complete(t, 100000, 32<<10)
	_, addr := serveTest(t, Config{}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	hs := waitFor[*peerwire.Extended](p)
	h, err := peerwire.ParseExtensionHandshake(hs)
	if err != nil || h.ReqQ != DefaultReqQ || h.MetadataSize != len(tor.Meta.InfoBytes()) || h.M[peerwire.MetadataExtension] == 0 || !h.UploadOnly {
		t.Fatalf("extension handshake %+v, %v", h, err)
	}
	waitFor[*peerwire.HaveAll](p)
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	p.send(&peerwire.Request{Index: 3, Begin: 0, Length: 100000 - 3*32<<10})
	pc := waitFor[*peerwire.Piece](p)
	if pc.Index != 3 || !bytes.Equal(pc.Block, data[3*32<<10:]) {
		t.Fatalf("piece %d with %d bytes: wrong block", pc.Index, len(pc.Block))
	}
}

func TestPlainPeerGetsABitfield(t *testing.T) {
	tor, _ := contenttest.Complete(t, 100000, 32<<10)
	_, addr := serveTest(t, Config{}, tor)
	p := connectPeer(t, addr, tor, peerwire.Reserved{})
	bf := waitFor[*peerwire.Bitfield](p)
	if !bytes.Equal(bf.Bits, []byte{0xf0}) {
		t.Fatalf("bitfield %08b", bf.Bits)
	}
}

// answers reads until every request of reqs has had one piece or one
// reject, and fails on a second answer to any.
func answers(t *testing.T, p *testPeer, reqs []peerwire.Request) (pieces, rejects int, choked bool) {
	t.Helper()
	pending := map[peerwire.Request]bool{}
	for _, r := range reqs {
		pending[r] = true
	}
	for len(pending) > 0 {
		m, err := p.r.ReadMessage()
		if err != nil {
			t.Fatalf("%d requests unanswered: %v", len(pending), err)
		}
		var r peerwire.Request
		switch m := m.(type) {
		case *peerwire.Piece:
			r = peerwire.Request{Index: m.Index, Begin: m.Begin, Length: uint32(len(m.Block))}
			pieces++
		case *peerwire.Reject:
			r = peerwire.Request(*m)
			rejects++
		case *peerwire.Choke:
			choked = true
			continue
		default:
			continue
		}
		if !pending[r] {
			t.Fatalf("second or unasked answer to %+v", r)
		}
		delete(pending, r)
	}
	return pieces, rejects, choked
}

func TestEveryFastRequestGetsOneAnswerThroughCancelAndChoke(t *testing.T) {
	tor, _ := contenttest.Complete(t, 40*16<<10, 64<<10)
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	// A slow upload keeps requests queued while we cancel and choke.
	s, addr := serveTest(t, Config{UploadRate: 64 << 10, Metrics: m}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	var reqs []peerwire.Request
	var msgs []peerwire.Message
	for i := range uint32(40) {
		r := peerwire.Request{Index: i / 4, Begin: i % 4 * 16 << 10, Length: 16 << 10}
		reqs = append(reqs, r)
		msgs = append(msgs, &r)
	}
	p.send(msgs...)
	c5 := peerwire.Cancel(reqs[5*4-1])
	p.send(&c5) // queued still: rejected
	waitUntil(t, "the cancel to be handled", func() bool {
		return testutil.ToFloat64(m.peer.Rejected[peer.RejectCancelled]) == 1
	})
	for _, c := range s.slots.all() {
		c.SetChoked(true)
	}
	pieces, rejects, choked := answers(t, p, reqs)
	if rejects == 0 || pieces == 0 || !choked {
		t.Fatalf("%d pieces, %d rejects, choked %v: want both answers (slow upload, then choke)", pieces, rejects, choked)
	}
}

func TestRequestsWhileChokedAreRejectedForFastPeers(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	_, addr := serveTest(t, Config{}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	r := peerwire.Request{Index: 0, Begin: 0, Length: 16 << 10}
	p.send(&r) // not interested, so never unchoked
	if got := waitFor[*peerwire.Reject](p); peerwire.Request(*got) != r {
		t.Fatalf("reject %+v for %+v", got, r)
	}
}

func TestMetadataIsServedForMagnetLinks(t *testing.T) {
	// Enough pieces that the info dictionary spans two metadata pieces.
	tor, _ := contenttest.Complete(t, 1200*16<<10, 16<<10)
	md := tor.Meta.InfoBytes()
	if len(md) <= peerwire.MetadataPieceSize {
		t.Fatalf("info dictionary of %d bytes: want more than one metadata piece", len(md))
	}
	_, addr := serveTest(t, Config{}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.Extended](p)
	p.send(&peerwire.ExtensionHandshake{M: map[string]uint8{peerwire.MetadataExtension: 7}})
	var got []byte
	for piece := range uint32(2) {
		p.send(&peerwire.MetadataRequest{ExtID: peer.MetadataID, Piece: piece})
		for {
			m := waitFor[*peerwire.Extended](p)
			if m.ExtID != 7 {
				continue
			}
			msg, err := peerwire.ParseMetadata(m)
			if err != nil {
				t.Fatal(err)
			}
			d := msg.(*peerwire.MetadataData)
			if d.Piece != piece || d.TotalSize != len(md) {
				t.Fatalf("metadata piece %d of %d", d.Piece, d.TotalSize)
			}
			got = append(got, d.Data...)
			break
		}
	}
	if !bytes.Equal(got, md) {
		t.Fatal("metadata differs from the info dictionary")
	}
	p.send(&peerwire.MetadataRequest{ExtID: peer.MetadataID, Piece: 9})
	for {
		m := waitFor[*peerwire.Extended](p)
		if msg, _ := peerwire.ParseMetadata(m); msg != nil {
			if rj, ok := msg.(*peerwire.MetadataReject); ok && rj.Piece == 9 {
				break
			}
			t.Fatalf("piece 9 answered with %T", msg)
		}
	}
}

func TestUnknownInfoHashIsDroppedAtOnce(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	_, addr := serveTest(t, Config{}, tor)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write(peerwire.Handshake{InfoHash: [20]byte{9}}.AppendTo(nil))
	if b, err := io.ReadAll(nc); len(b) != 0 || err != nil {
		t.Fatalf("read %d bytes, %v; want a silent close", len(b), err)
	}
}

func TestConnectionLimitsAreEnforced(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, addr := serveTest(t, Config{MaxConnsPerTorrent: 2}, tor)
	for range 2 {
		connectPeer(t, addr, tor, fastReserved())
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := s.slots.len()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections registered", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	p := connectPeer(t, addr, tor, fastReserved())
	if _, err := io.ReadAll(p.nc); err != nil {
		t.Fatalf("third connection: %v, want closed", err)
	}
}

func TestHalfOpenConnectionsCountAgainstTheLimitAndTimeOut(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, addr := serveTest(t, Config{MaxConns: 2, HandshakeTimeout: time.Second}, tor)
	var idle []net.Conn
	for range 2 {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		idle = append(idle, nc)
	}
	waitUntil(t, "the seeder to accept both", func() bool { return handshakes(s) == 2 })
	// The silent ones are dropped after the handshake timeout.
	for _, c := range idle {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("silent connection: %v, want closed after the handshake timeout", err)
		}
	}
	waitUntil(t, "the timed-out handshakes to be forgotten", func() bool { return handshakes(s) == 0 })
}

// handshakes is the number of incoming connections in their handshake.
func handshakes(s *Seeder) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate.Handshakes()
}

// A peer that asks for metadata, or sends requests while choked, and
// never reads the answers is dropped once they pile up, instead of
// making the seeder queue 16 KiB per 40-byte request until the write
// timeout.
func TestPeerThatAsksWithoutReadingIsDropped(t *testing.T) {
	tor, _ := contenttest.Complete(t, 1200*16<<10, 16<<10)
	s, addr := serveTest(t, Config{WriteTimeout: 5 * time.Minute, IdleTimeout: 10 * time.Minute}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	waitFor[*peerwire.Extended](p)
	var b []byte
	b = peerwire.ExtensionHandshake{M: map[string]uint8{peerwire.MetadataExtension: 7}}.AppendTo(b)
	for range 5000 {
		b = peerwire.MetadataRequest{ExtID: peer.MetadataID, Piece: 0}.AppendTo(b)
	}
	if _, err := p.nc.Write(b); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := s.slots.len()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a peer that does not read is still connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Shutdown does not wait for the handshake timeout of connections still
// in their handshake: they are closed at once.
func TestShutdownClosesConnectionsInTheirHandshake(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	s, err := New(Config{HandshakeTimeout: time.Minute}, []*content.Torrent{tor})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	waitUntil(t, "the seeder to accept it", func() bool { return handshakes(s) == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still waiting for a silent handshake after shutdown")
	}
}
