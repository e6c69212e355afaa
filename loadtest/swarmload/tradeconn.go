package swarmload

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/peerwire"
)

// tradeConn is one connection of a trading leecher, to the seeder or to
// another leecher. Its reader handles what the peer sends and asks it for
// blocks; its writer sends our messages and the blocks the peer asked for,
// as the leecher's upload cap allows.
type tradeConn struct {
	t      *trader
	pc     *peerConn
	id     int32 // the picker's owner number
	seeder bool

	// Guarded by t.mu.
	pieces   peerPieces
	choked   bool // the peer chokes us
	inflight int  // blocks asked and not yet received or rejected
	pipeline int  // the most blocks asked at once
	closed   bool
	// rate is how fast blocks arrive, in bytes per second, measured over
	// windows from windowAt on, got bytes so far in this one.
	rate     float64
	got      int64
	windowAt time.Time

	// Guarded by mu: what the writer sends next.
	mu      sync.Mutex
	out     []byte             // encoded messages
	uploads []peerwire.Request // blocks the peer asked for, in order
	err     error
	wake    chan struct{}
	done    chan struct{}
}

func newTradeConn(t *trader, pc *peerConn, id int32, seeder bool) *tradeConn {
	pipeline := t.cfg.PeerPipeline
	if seeder {
		pipeline = t.cfg.Pipeline
	}
	return &tradeConn{t: t, pc: pc, id: id, seeder: seeder, choked: true, pipeline: pipeline,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// sendHave queues a have message for the writer.
func (c *tradeConn) sendHave(i uint32) {
	c.mu.Lock()
	c.out = peerwire.Have{Index: i}.AppendTo(c.out)
	c.mu.Unlock()
	c.signal()
}

// sendNotInterested queues a not interested message for the writer.
func (c *tradeConn) sendNotInterested() {
	c.mu.Lock()
	c.out = peerwire.NotInterested{}.AppendTo(c.out)
	c.mu.Unlock()
	c.signal()
}

func (c *tradeConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close ends the connection; the first error is kept.
func (c *tradeConn) close(err error) {
	c.mu.Lock()
	if c.err == nil {
		if err == nil {
			err = io.EOF
		}
		c.err = err
		close(c.done)
	}
	c.mu.Unlock()
	c.pc.close()
}

// fill asks the peer for blocks until its pipeline is full. t.mu is held.
func (c *tradeConn) fill() {
	t := c.t
	depth := c.depth()
	if c.closed || c.choked || c.pieces.has == nil || t.pk.done() || c.inflight >= depth {
		return
	}
	t.refs = t.pk.pick(&c.pieces, c.id, depth-c.inflight, t.refs[:0])
	if len(t.refs) == 0 {
		return
	}
	c.mu.Lock()
	for _, r := range t.refs {
		c.out = peerwire.Request{Index: r.index, Begin: r.begin, Length: t.pk.blockLength(r.index, r.begin)}.AppendTo(c.out)
	}
	c.mu.Unlock()
	c.inflight += len(t.refs)
	t.res.requests += int64(len(t.refs))
	c.signal()
}

// Request queue sizing, as libtorrent does: a peer is asked for about
// queueTime's worth of blocks at the rate it sends them, at least
// minDepth. As a block is asked of one peer at a time, a deep queue at a
// slow peer (a capped seeder that serves everyone) would hold blocks a
// faster one could send.
const (
	queueTime  = time.Second
	minDepth   = 4
	rateWindow = 250 * time.Millisecond
)

// depth is how many blocks to keep asked of the peer. t.mu is held.
func (c *tradeConn) depth() int {
	q := int(c.rate * queueTime.Seconds() / float64(c.t.cfg.BlockSize))
	return min(c.pipeline, max(minDepth, q))
}

// measure counts n bytes received towards the rate. t.mu is held.
func (c *tradeConn) measure(n int64) {
	now := time.Now()
	if c.windowAt.IsZero() {
		c.windowAt = now
	}
	c.got += n
	if el := now.Sub(c.windowAt); el >= rateWindow {
		sample := float64(c.got) / el.Seconds()
		if c.rate == 0 {
			c.rate = sample
		} else {
			c.rate = (c.rate + sample) / 2
		}
		c.got, c.windowAt = 0, now
	}
}

// readLoop handles messages until the connection fails or closes.
func (c *tradeConn) readLoop() error {
	t := c.t
	r := peerwire.NewReader(c.pc.br, peerwire.ReaderConfig{
		Pieces:      t.numPieces,
		MaxBlock:    uint32(t.cfg.BlockSize),
		BlockBuffer: c.blockBuffer,
	})
	var deadline time.Time
	for {
		// Move the idle deadline at most once a second; a leecher that
		// is done only serves, and waits for the end of the run.
		if now := time.Now(); now.Sub(deadline) > -t.cfg.IdleTimeout+time.Second {
			deadline = now.Add(t.cfg.IdleTimeout)
			if t.done.Load() {
				deadline = t.end
			}
			if err := c.pc.nc.SetReadDeadline(deadline); err != nil {
				return err
			}
		}
		m, err := r.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.handle(m); err != nil {
			return err
		}
	}
}

// blockBuffer points the Reader at the place of a block we asked this
// peer for, in the piece being assembled; other blocks are read into the
// Reader's own buffer and dropped.
func (c *tradeConn) blockBuffer(index, begin, length uint32) []byte {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	return c.t.pk.buffer(index, begin, length, c.id)
}

func (c *tradeConn) handle(m peerwire.Message) error {
	t := c.t
	switch m := m.(type) {
	case *peerwire.Piece:
		c.onBlock(m)
		return nil
	case *peerwire.Request:
		c.onRequest(*m)
		return nil
	case *peerwire.Cancel:
		c.onCancel(peerwire.Request(*m))
		return nil
	case *peerwire.Extended:
		if m.ExtID == peerwire.ExtHandshakeID {
			if h, err := peerwire.ParseExtensionHandshake(m); err == nil && h.ReqQ > 0 {
				t.mu.Lock()
				c.pipeline = min(c.pipeline, h.ReqQ)
				t.mu.Unlock()
			}
		}
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch m := m.(type) {
	case *peerwire.HaveAll:
		t.pk.peerHaveAll(&c.pieces)
	case *peerwire.HaveNone:
		t.pk.peerBitfield(&c.pieces, nil)
	case *peerwire.Bitfield:
		b, err := bitfield.FromBytes(m.Bits, t.numPieces)
		if err != nil {
			return err
		}
		t.pk.peerBitfield(&c.pieces, b)
	case *peerwire.Have:
		if m.Index >= t.numPieces {
			return fmt.Errorf("have for piece %d of %d", m.Index, t.numPieces)
		}
		t.pk.peerHave(&c.pieces, m.Index)
	case *peerwire.Unchoke:
		c.choked = false
	case *peerwire.Choke:
		c.choked = true
		t.res.chokes++
		if !c.pc.fast {
			// BEP 3: a choke drops every pending request. Under BEP 6
			// each is rejected explicitly instead.
			c.inflight = 0
			if t.pk.releaseAll(c.id) > 0 {
				t.fillAll(c)
			}
		}
		return nil
	case *peerwire.Reject:
		if t.pk.release(m.Index, m.Begin, m.Length, c.id) {
			c.inflight--
			t.res.rejected++
			// Asked of the others first: this peer just said no.
			t.fillAll(c)
		}
		return nil
	default:
		return nil
	}
	c.fill()
	return nil
}

// onBlock takes a block the Reader has put in its piece's buffer.
func (c *tradeConn) onBlock(m *peerwire.Piece) {
	t := c.t
	t.mu.Lock()
	pc, ok := t.pk.received(m.Index, m.Begin, uint32(len(m.Block)), c.id)
	if !ok {
		t.mu.Unlock()
		return // not asked of this peer (any more)
	}
	c.inflight--
	n := int64(len(m.Block))
	c.measure(n)
	if c.seeder {
		t.res.fromSeeder += n
		t.live.fromSeeder.Add(n)
	} else {
		t.res.fromPeers += n
	}
	t.live.bytes.Add(n)
	c.fill()
	t.mu.Unlock()
	if pc != nil {
		t.onPiece(pc)
	}
}

// onRequest queues a block the peer asked for, of a piece we verified; any
// other request is rejected (BEP 6).
func (c *tradeConn) onRequest(r peerwire.Request) {
	t := c.t
	t.mu.Lock()
	ok := r.Index < t.numPieces && t.pk.have.Has(r.Index) && r.Length > 0 &&
		r.Length <= uint32(t.cfg.BlockSize) && uint64(r.Begin)+uint64(r.Length) <= uint64(t.pk.pieceSize(r.Index))
	t.mu.Unlock()
	c.mu.Lock()
	switch {
	case ok && len(c.uploads) < maxUploadQueue:
		c.uploads = append(c.uploads, r)
	case c.pc.fast:
		c.out = peerwire.Reject(r).AppendTo(c.out)
	}
	c.mu.Unlock()
	c.signal()
}

// onCancel drops a queued request (BEP 3).
func (c *tradeConn) onCancel(r peerwire.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, q := range c.uploads {
		if q == r {
			c.uploads = append(c.uploads[:k], c.uploads[k+1:]...)
			return
		}
	}
}

// errNoPiece ends a connection whose peer we would send a piece the store
// lacks, which never happens: a leecher serves only what it verified.
var errNoPiece = errors.New("piece to serve is not in the store")

// writeLoop sends queued messages at once, and the blocks the peer asked
// for one at a time as the upload cap allows, until the connection
// closes. Messages are never held behind a block waiting for the cap.
func (c *tradeConn) writeLoop() {
	t := c.t
	w := c.pc.w
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		out      []byte
		next     peerwire.Request
		holding  bool // next waits for the cap until ready
		ready    time.Time
		deadline time.Time
	)
	fail := func(err error) { c.close(fmt.Errorf("write: %w", err)) }
	for {
		c.mu.Lock()
		out, c.out = c.out, out[:0]
		if !holding && len(c.uploads) > 0 {
			next = c.uploads[0]
			c.uploads = append(c.uploads[:0], c.uploads[1:]...)
			holding = true
			ready = time.Now().Add(t.up.Reserve(int(next.Length)))
		}
		c.mu.Unlock()
		now := time.Now()
		serve := holding && !now.Before(ready)
		if (len(out) > 0 || serve) && now.Sub(deadline) > time.Second {
			// A peer that stops reading is dropped after the idle time.
			deadline = now
			if err := c.pc.nc.SetWriteDeadline(now.Add(t.cfg.IdleTimeout)); err != nil {
				fail(err)
				return
			}
		}
		if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				fail(err)
				return
			}
		}
		if serve {
			holding = false
			data := t.store.piece(next.Index)
			if data == nil {
				fail(fmt.Errorf("piece %d: %w", next.Index, errNoPiece))
				return
			}
			if err := w.WritePiece(next.Index, next.Begin, data[next.Begin:next.Begin+next.Length]); err != nil {
				fail(err)
				return
			}
			t.uploaded.Add(int64(next.Length))
			continue
		}
		if err := w.Flush(); err != nil {
			fail(err)
			return
		}
		var tick <-chan time.Time
		if holding {
			timer.Reset(ready.Sub(now))
			tick = timer.C
		}
		select {
		case <-c.done:
			timer.Stop()
			return
		case <-c.wake:
		case <-tick:
		}
		timer.Stop()
	}
}
