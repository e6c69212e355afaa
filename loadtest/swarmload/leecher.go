package swarmload

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
)

// maxHashFailures is how often one piece may fail its check before the
// leecher gives up on the seeder.
const maxHashFailures = 3

// errSeederLacks ends a leecher whose seeder does not have a piece.
var errSeederLacks = errors.New("seeder lacks a piece")

// errHash ends a leecher that got a piece wrong maxHashFailures times.
var errHash = errors.New("piece failed its hash check")

// leecherResult is what one leecher did.
type leecherResult struct {
	done      bool
	took      time.Duration // from its dial to its last verified piece
	bytes     int64         // verified
	requests  int64
	rejected  int64 // BEP 6 rejects
	chokes    int64
	hashFails int64
	err       error
	// Block bytes received from the seeder and from other leechers
	// (trading only), and uploaded to them.
	fromSeeder, fromPeers, uploaded int64
	// peerFailures counts connections to other leechers that could not
	// be made.
	peerFailures int64
}

// blockRef names a block: piece index and offset.
type blockRef struct{ index, begin uint32 }

// pieceBuf is a piece being assembled.
type pieceBuf struct {
	buf     []byte
	missing int // bytes not yet received
	fails   int
}

// leecher downloads every piece from the seeder over one connection.
type leecher struct {
	id        int
	addr      string
	ih        [20]byte
	info      *metainfo.Info
	cfg       *Config
	numPieces uint32
	live      *live

	c        *peerConn
	r        *peerwire.Reader
	told     bool // the seeder said what it has
	haveAll  bool
	has      *bitfield.Bitfield
	choked   bool
	pipeline int
	start    uint32 // first piece this leecher opens
	opened   uint32 // pieces opened so far
	isOpen   *bitfield.Bitfield
	// cursor is how far past start open has looked, for a seeder that
	// has every piece; avail are the pieces a seeder that reveals them a
	// few at a time (offload) announced and that are not open yet.
	cursor   uint32
	avail    []uint32
	verified uint32
	queue    []peerwire.Request // blocks to request, in order
	pending  map[blockRef]uint32
	pieces   map[uint32]*pieceBuf
	free     [][]byte
	res      leecherResult
}

// live are counts the progress line reads while the run goes on.
type live struct {
	bytes, fromSeeder, done, failed atomic.Int64
}

func (l *leecher) run(ctx context.Context) leecherResult {
	began := time.Now()
	err := l.download(ctx)
	if l.c != nil {
		l.c.close()
	}
	l.res.took = time.Since(began)
	if err != nil {
		l.res.err = fmt.Errorf("leecher %d: %w", l.id, err)
		l.live.failed.Add(1)
	} else {
		l.res.done = true
		l.live.done.Add(1)
	}
	return l.res
}

func (l *leecher) download(ctx context.Context) error {
	c, err := dialPeer(ctx, "seeder", l.addr, l.ih, newPeerID(), l.cfg.DialTimeout)
	if err != nil {
		return err
	}
	l.c = c
	l.choked = true
	l.pipeline = l.cfg.Pipeline
	l.pending = make(map[blockRef]uint32, l.pipeline)
	l.pieces = make(map[uint32]*pieceBuf)
	l.isOpen = bitfield.New(l.numPieces)
	l.r = peerwire.NewReader(c.br, peerwire.ReaderConfig{
		Pieces:      l.numPieces,
		MaxBlock:    uint32(l.cfg.BlockSize),
		BlockBuffer: l.blockBuffer,
	})
	if err := c.w.WriteMessage(&peerwire.Interested{}); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	var deadline time.Time
	for l.verified < l.numPieces {
		// Move the idle deadline at most once a second: blocks arrive
		// thousands a second.
		if now := time.Now(); now.Sub(deadline) > -l.cfg.IdleTimeout+time.Second {
			deadline = now.Add(l.cfg.IdleTimeout)
			if err := c.nc.SetDeadline(deadline); err != nil {
				return err
			}
		}
		m, err := l.r.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("run ended with %d of %d pieces: %w", l.verified, l.numPieces, ctx.Err())
			}
			return err
		}
		if err := l.handle(m); err != nil {
			return err
		}
		if err := l.fill(); err != nil {
			return err
		}
		if c.w.Buffered() > 0 {
			if err := c.w.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// blockBuffer points the Reader at the place of a block in its piece, so
// blocks are read straight where they belong.
func (l *leecher) blockBuffer(index, begin, length uint32) []byte {
	pb := l.pieces[index]
	if pb == nil || uint64(begin)+uint64(length) > uint64(len(pb.buf)) {
		return nil
	}
	return pb.buf[begin : begin+length]
}

func (l *leecher) handle(m peerwire.Message) error {
	switch m := m.(type) {
	case *peerwire.HaveAll:
		l.told, l.haveAll = true, true
	case *peerwire.HaveNone:
		l.told, l.has = true, bitfield.New(l.numPieces)
	case *peerwire.Bitfield:
		b, err := bitfield.FromBytes(m.Bits, l.numPieces)
		if err != nil {
			return err
		}
		l.told, l.has = true, b
		for i := range l.numPieces {
			if b.Has(i) {
				l.announced(i)
			}
		}
	case *peerwire.Have:
		if m.Index >= l.numPieces {
			return fmt.Errorf("have for piece %d of %d", m.Index, l.numPieces)
		}
		if l.has == nil {
			l.has = bitfield.New(l.numPieces)
		}
		l.told = true
		l.has.Set(m.Index)
		l.announced(m.Index)
	case *peerwire.Unchoke:
		l.choked = false
	case *peerwire.Choke:
		l.choked = true
		l.res.chokes++
		if !l.c.fast {
			// BEP 3: a choke drops every pending request. Under BEP 6
			// each is rejected explicitly instead.
			for ref, n := range l.pending {
				l.queue = append(l.queue, peerwire.Request{Index: ref.index, Begin: ref.begin, Length: n})
			}
			clear(l.pending)
		}
	case *peerwire.Reject:
		ref := blockRef{m.Index, m.Begin}
		if n, ok := l.pending[ref]; ok && n == m.Length {
			delete(l.pending, ref)
			l.res.rejected++
			l.queue = append([]peerwire.Request{{Index: m.Index, Begin: m.Begin, Length: m.Length}}, l.queue...)
		}
	case *peerwire.Piece:
		return l.onBlock(m)
	case *peerwire.Extended:
		if m.ExtID == peerwire.ExtHandshakeID {
			if h, err := peerwire.ParseExtensionHandshake(m); err == nil && h.ReqQ > 0 {
				l.pipeline = min(l.cfg.Pipeline, h.ReqQ)
			}
		}
	}
	return nil
}

// onBlock takes a block the Reader has put in its piece's buffer.
func (l *leecher) onBlock(m *peerwire.Piece) error {
	ref := blockRef{m.Index, m.Begin}
	n, ok := l.pending[ref]
	if !ok || n != uint32(len(m.Block)) {
		return nil // not asked for (any more): the request is queued again
	}
	delete(l.pending, ref)
	pb := l.pieces[m.Index]
	pb.missing -= len(m.Block)
	l.res.fromSeeder += int64(len(m.Block))
	l.live.bytes.Add(int64(len(m.Block)))
	l.live.fromSeeder.Add(int64(len(m.Block)))
	if pb.missing > 0 {
		return nil
	}
	if sha1.Sum(pb.buf) != l.info.PieceHash(int(m.Index)) {
		l.res.hashFails++
		pb.fails++
		if pb.fails >= maxHashFailures {
			return fmt.Errorf("piece %d: %w %d times", m.Index, errHash, pb.fails)
		}
		pb.missing = len(pb.buf)
		l.queue = l.appendBlocks(l.queue, m.Index, len(pb.buf))
		return nil
	}
	l.verified++
	l.res.bytes += int64(len(pb.buf))
	delete(l.pieces, m.Index)
	l.free = append(l.free, pb.buf)
	// Tell the seeder, as a real client would.
	return l.c.w.WriteMessage(&peerwire.Have{Index: m.Index})
}

// fill sends requests until the pipeline is full, opening pieces as
// needed.
func (l *leecher) fill() error {
	if l.choked || !l.told {
		return nil
	}
	for len(l.pending) < l.pipeline {
		if len(l.queue) == 0 && !l.open() {
			return nil
		}
		if len(l.queue) == 0 {
			continue
		}
		rq := l.queue[0]
		l.queue = l.queue[1:]
		if !l.haveAll && (l.has == nil || !l.has.Has(rq.Index)) {
			return fmt.Errorf("piece %d: %w", rq.Index, errSeederLacks)
		}
		l.pending[blockRef{rq.Index, rq.Begin}] = rq.Length
		l.res.requests++
		if _, err := l.c.w.Write(rq.AppendTo(l.c.w.AvailableBuffer())); err != nil {
			return err
		}
	}
	return nil
}

// announced queues a piece the seeder says it has, to be opened.
func (l *leecher) announced(i uint32) {
	if !l.isOpen.Has(i) {
		l.avail = append(l.avail, i)
	}
}

// next picks the piece to open next: in order from start when the seeder
// has every piece, else one it announced. It reports false when there is
// none now (a seeder that reveals pieces a few at a time will announce
// more).
func (l *leecher) next() (uint32, bool) {
	if l.haveAll {
		for ; l.cursor < l.numPieces; l.cursor++ {
			if i := (l.start + l.cursor) % l.numPieces; !l.isOpen.Has(i) {
				return i, true
			}
		}
		return 0, false
	}
	for len(l.avail) > 0 {
		i := l.avail[0]
		l.avail = l.avail[1:]
		if !l.isOpen.Has(i) {
			return i, true
		}
	}
	return 0, false
}

// open starts the next piece: its buffer, and its blocks queued. It
// reports false when no piece is left to open now.
func (l *leecher) open() bool {
	if l.opened == l.numPieces {
		return false
	}
	i, ok := l.next()
	if !ok {
		return false
	}
	l.isOpen.Set(i)
	l.opened++
	size := int(l.info.PieceSize(int(i)))
	var buf []byte
	if n := len(l.free); n > 0 && cap(l.free[n-1]) >= size {
		buf, l.free = l.free[n-1][:size], l.free[:n-1]
	} else {
		buf = make([]byte, size)
	}
	l.pieces[i] = &pieceBuf{buf: buf, missing: size}
	l.queue = l.appendBlocks(l.queue, i, size)
	return true
}

// appendBlocks queues every block of piece i, size bytes long.
func (l *leecher) appendBlocks(q []peerwire.Request, i uint32, size int) []peerwire.Request {
	for begin := 0; begin < size; begin += l.cfg.BlockSize {
		q = append(q, peerwire.Request{Index: i, Begin: uint32(begin), Length: uint32(min(l.cfg.BlockSize, size-begin))})
	}
	return q
}
