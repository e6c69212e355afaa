package swarmload

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/ratelimit"
)

// trader is a leecher that trades, as real clients do: it downloads from
// the seeder and from the other trading leechers it is connected to, and
// uploads what it verified to them, within its own upload cap. Once it has
// every piece it stays, serving, until the run ends.
type trader struct {
	id        int
	cfg       *Config
	info      *metainfo.Info
	ih        [20]byte
	peerID    [20]byte
	numPieces uint32
	seeder    string
	store     *pieceStore
	up        *ratelimit.Bucket // nil: no cap
	live      *live
	ln        net.Listener
	// ctx is the run's: it ends every connection and the listener.
	ctx context.Context
	// end is the run's deadline: it bounds the reads of a leecher that is
	// done and only serves.
	end time.Time
	// wg holds the accept loop, the dials and every connection's reader
	// and writer; the run waits for it after ending ctx.
	wg       sync.WaitGroup
	done     atomic.Bool // every piece verified
	uploaded atomic.Int64

	mu       sync.Mutex
	pk       *picker
	conns    map[*tradeConn]struct{}
	peers    int // connections to other leechers
	nextID   int32
	refs     []blockRef // scratch for picks
	began    time.Time
	moved    time.Time     // when read deadlines were last moved for progress
	finished chan struct{} // closed when done or failed
	res      leecherResult
}

// maxUploadQueue bounds the requests a trading leecher queues from one
// peer; more are rejected.
const maxUploadQueue = maxPeerPipeline

func newTrader(ctx context.Context, id int, cfg *Config, t *metainfo.Torrent, seeder string, store *pieceStore, lv *live) *trader {
	info := &t.Info
	n := uint32(info.NumPieces())
	tr := &trader{
		id: id, cfg: cfg, info: info, ih: t.InfoHash(), peerID: newPeerID(), numPieces: n,
		seeder: seeder, store: store, live: lv, ctx: ctx,
		pk:       newPicker(n, info.PieceLength, info.TotalLength(), cfg.BlockSize, uint64(id)+1),
		conns:    make(map[*tradeConn]struct{}),
		finished: make(chan struct{}),
	}
	tr.end, _ = ctx.Deadline()
	if cfg.LeecherUploadRate > 0 {
		tr.up = ratelimit.New(cfg.LeecherUploadRate, cfg.BlockSize, time.Now)
	}
	return tr
}

// listen opens the loopback port other leechers dial; the listener closes
// when the run ends.
func (t *trader) listen() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("leecher %d: listen: %w", t.id, err)
	}
	t.ln = ln
	stop := context.AfterFunc(t.ctx, func() { ln.Close() })
	t.wg.Go(func() {
		defer stop()
		t.accept()
	})
	return nil
}

// accept takes connections from other leechers until the listener closes.
func (t *trader) accept() {
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.wg.Go(func() {
			c, err := acceptPeer(t.ctx, nc, t.ih, t.peerID, t.cfg.DialTimeout)
			if err != nil {
				t.peerFailed()
				return
			}
			t.start(c, false)
		})
	}
}

// run connects to the seeder and dials the leechers at peers, and returns
// once every piece is verified or the leecher failed. Its connections
// stay up, serving, until the run ends.
func (t *trader) run(peers []string) leecherResult {
	t.mu.Lock()
	t.began = time.Now()
	t.mu.Unlock()
	if c, err := dialPeer(t.ctx, "seeder", t.seeder, t.ih, t.peerID, t.cfg.DialTimeout); err != nil {
		t.fail(err)
	} else {
		t.start(c, true)
		for _, addr := range peers {
			t.wg.Go(func() {
				c, err := dialPeer(t.ctx, "peer", addr, t.ih, t.peerID, t.cfg.DialTimeout)
				if err != nil {
					t.peerFailed()
					return
				}
				t.start(c, false)
			})
		}
	}
	select {
	case <-t.finished:
	case <-t.ctx.Done():
		t.fail(t.runEnded())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.res
}

// runEnded is the error of a leecher the run ended before it was done.
func (t *trader) runEnded() error {
	t.mu.Lock()
	n := t.pk.count
	t.mu.Unlock()
	return fmt.Errorf("run ended with %d of %d pieces: %w", n, t.numPieces, t.ctx.Err())
}

// peerFailed counts a connection to another leecher that could not be
// made.
func (t *trader) peerFailed() {
	t.mu.Lock()
	t.res.peerFailures++
	t.mu.Unlock()
}

// start registers a connection whose handshakes are done and starts its
// reader and writer. Its first messages say which pieces we have, in the
// same critical section that adds it to the connections later have
// messages go to, so none is missed.
func (t *trader) start(pc *peerConn, seeder bool) {
	t.mu.Lock()
	if t.res.err != nil || (!seeder && t.peers >= t.cfg.PeersPerLeecher) {
		// Failed, or full: the other side sees the connection close.
		t.mu.Unlock()
		pc.close()
		return
	}
	t.nextID++
	c := newTradeConn(t, pc, t.nextID, seeder)
	t.conns[c] = struct{}{}
	if !seeder {
		t.peers++
		// Every leecher is unchoked at once: the upload cap, not
		// choking, is what limits a trading leecher.
		c.out = peerwire.Unchoke{}.AppendTo(c.out)
	}
	for i := range t.numPieces {
		if t.pk.have.Has(i) {
			c.out = peerwire.Have{Index: i}.AppendTo(c.out)
		}
	}
	if !t.pk.done() {
		c.out = peerwire.Interested{}.AppendTo(c.out)
	}
	t.mu.Unlock()
	t.wg.Go(c.writeLoop)
	t.wg.Go(func() {
		err := c.readLoop()
		c.close(err)
		t.gone(c, err)
	})
}

// gone forgets a closed connection: the blocks asked of it go to others.
// The seeder's connection failing fails a leecher that is not done.
func (t *trader) gone(c *tradeConn, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
	if !c.seeder {
		t.peers--
	}
	c.closed = true
	t.pk.releaseAll(c.id)
	t.pk.peerGone(&c.pieces)
	if c.seeder && !t.pk.done() {
		if t.ctx.Err() != nil {
			err = fmt.Errorf("run ended with %d of %d pieces: %w", t.pk.count, t.numPieces, t.ctx.Err())
		}
		t.failLocked(fmt.Errorf("seeder: %w", err))
		return
	}
	t.fillAll(nil)
}

// fillAll sends requests on every connection but except, as after blocks
// were freed. t.mu is held.
func (t *trader) fillAll(except *tradeConn) {
	for c := range t.conns {
		if c != except {
			c.fill()
		}
	}
}

// onPiece checks a piece whose last block arrived and records the outcome.
// It takes t.mu itself: the hash is computed without it, as nobody writes
// to a piece whose blocks all arrived.
func (t *trader) onPiece(pc *partial) {
	ok := sha1.Sum(pc.buf) == t.info.PieceHash(int(pc.index))
	t.mu.Lock()
	defer t.mu.Unlock()
	if !ok {
		t.res.hashFails++
		if fails := t.pk.failed(pc); fails >= maxHashFailures {
			t.failLocked(fmt.Errorf("piece %d: %w %d times", pc.index, errHash, fails))
			return
		}
		t.fillAll(nil)
		return
	}
	buf := t.pk.verified(pc)
	if !t.store.keep(pc.index, buf) {
		t.pk.recycle(buf)
	}
	t.res.bytes += int64(len(buf))
	for c := range t.conns {
		c.sendHave(pc.index)
	}
	if t.pk.done() {
		t.complete()
		return
	}
	// Progress on any connection keeps every connection's reads alive:
	// under offload the seeder may rightly say nothing to a leecher for
	// long, and so may a peer with nothing we lack.
	if now := time.Now(); now.Sub(t.moved) > time.Second {
		t.moved = now
		for c := range t.conns {
			c.pc.nc.SetReadDeadline(now.Add(t.cfg.IdleTimeout))
		}
	}
}

// complete records that every piece is verified. t.mu is held.
func (t *trader) complete() {
	t.res.done = true
	t.res.took = time.Since(t.began)
	t.done.Store(true)
	t.live.done.Add(1)
	close(t.finished)
	for c := range t.conns {
		c.sendNotInterested()
		// Serving from now on, until the run ends.
		c.pc.nc.SetReadDeadline(t.end)
	}
}

// fail ends a leecher that is not done: it stops trading.
func (t *trader) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failLocked(err)
}

func (t *trader) failLocked(err error) {
	if t.res.done || t.res.err != nil {
		return
	}
	t.res.err = fmt.Errorf("leecher %d: %w", t.id, err)
	t.res.took = time.Since(t.began)
	t.live.failed.Add(1)
	close(t.finished)
	for c := range t.conns {
		c.close(err)
	}
}
