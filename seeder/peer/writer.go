package peer

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"time"

	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/storage"
)

// writeLoop sends control messages and blocks until the connection closes.
func (c *Conn) writeLoop() {
	c.lastWrite = time.Now()
	tick := time.NewTicker(c.cfg.KeepAlive / 2)
	defer tick.Stop()
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	for {
		more, err := c.writeStep()
		if err != nil {
			c.Close(err)
			return
		}
		if more {
			continue
		}
		select {
		case <-c.wake:
		case <-c.done:
			return
		case now := <-tick.C:
			if now.Sub(c.lastWrite) >= c.cfg.KeepAlive {
				c.setWriteDeadline(now)
				err := c.w.WriteKeepAlive()
				if err == nil {
					err = c.w.Flush()
				}
				if err != nil {
					c.Close(err)
					return
				}
				c.lastWrite = now
			}
		}
	}
}

// Serving batches: a writer takes up to maxBatch queued requests (at most
// batchBytes) at a time, reads each run of contiguous blocks with one
// positional read and sends all the blocks with one writev. Leechers ask
// for the blocks of a piece in order, so this cuts the system calls per
// block from two to a fraction.
const (
	maxBatch   = 32
	batchBytes = 512 << 10
)

// writeStep sends the waiting control messages and serves a batch of
// requests. It reports whether there was anything to do.
func (c *Conn) writeStep() (bool, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return false, nil
	}
	ctrl := c.out
	c.out, c.spare = c.spare[:0], nil
	batch, size := c.batch[:0], 0
	limit := batchBytes
	if c.cfg.Limiter != nil {
		// Small batches under a rate limit, so the wait per batch stays short;
		// never more than c.buf holds, which a high rate's burst exceeds.
		limit = min(limit, c.cfg.Limiter.Burst())
	}
	for len(batch) < maxBatch && size < limit {
		r, ok := c.queue.pop()
		if !ok {
			break
		}
		batch = append(batch, r)
		size += int(r.Length)
	}
	c.batch = batch
	// Set as the requests leave the queue, so Busy has no gap between.
	c.sending = len(batch) > 0
	c.noteBusy()
	choked := c.choked
	c.mu.Unlock()
	if len(ctrl) == 0 && len(batch) == 0 {
		c.spare = ctrl
		if choked {
			// Only unchoked peers hold a block buffer, so memory follows
			// the upload slots, not the connection count.
			c.buf = nil
		}
		return false, nil
	}
	now := time.Now()
	c.setWriteDeadline(now)
	c.lastWrite = now
	if len(ctrl) > 0 {
		_, err := c.w.Write(ctrl)
		c.mu.Lock()
		if cap(ctrl) <= 64<<10 { // do not keep a buffer a metadata burst grew
			c.spare = ctrl[:0]
		}
		c.mu.Unlock()
		if err != nil {
			return false, err
		}
	}
	// Control messages go before the blocks, in order.
	if c.w.Buffered() > 0 {
		if err := c.w.Flush(); err != nil {
			return false, err
		}
	}
	if len(batch) > 0 {
		if err := c.serve(batch); err != nil {
			return false, err
		}
	}
	return true, nil
}

// setWriteDeadline gives the next writes WriteTimeout, moving the deadline
// at most once a second.
func (c *Conn) setWriteDeadline(now time.Time) {
	if c.deadline.Sub(now) < c.cfg.WriteTimeout-time.Second {
		c.deadline = now.Add(c.cfg.WriteTimeout)
		c.nc.SetWriteDeadline(c.deadline)
	}
}

// serve reads a batch of requested blocks from disk and sends them as
// piece messages in one write.
func (c *Conn) serve(batch []peerwire.Request) error {
	if c.buf == nil {
		c.buf = make([]byte, batchBytes+c.cfg.MaxRequest)
		c.hdrs = make([]byte, 0, maxBatch*peerwire.PieceHeaderLen)
		c.iov = make([][]byte, 0, 2*maxBatch)
	}
	hdrs, iov, pos, total, served := c.hdrs[:0], c.iov[:0], 0, 0, 0
	pieceLen := int64(c.t.PieceLen)
	for i := 0; i < len(batch); {
		// A run of requests whose blocks follow each other on disk.
		off := int64(batch[i].Index)*pieceLen + int64(batch[i].Begin)
		n, j := int(batch[i].Length), i+1
		for ; j < len(batch); j++ {
			r := batch[j]
			if int64(r.Index)*pieceLen+int64(r.Begin) != off+int64(n) {
				break
			}
			n += int(r.Length)
		}
		run := c.buf[pos : pos+n]
		start := time.Now()
		_, err := c.t.Storage.ReadAt(run, off)
		c.cfg.Metrics.diskReadTook(time.Since(start))
		if err != nil {
			// The file changed, vanished or failed under us: tell the
			// peer, keep serving the rest.
			c.readFailed(batch[i:j], off, n, err)
			i = j
			continue
		}
		for _, r := range batch[i:j] {
			block := c.buf[pos : pos+int(r.Length)]
			pos += int(r.Length)
			// Tested after the read: a change noticed before the read
			// ended has invalidated the piece by now, so its bytes,
			// maybe the new file's, are not sent.
			if !c.t.Served.Has(r.Index) {
				c.mu.Lock()
				c.reject(r, RejectMissing)
				c.mu.Unlock()
				continue
			}
			h := len(hdrs)
			hdrs = peerwire.AppendPieceHeader(hdrs, r.Index, r.Begin, int(r.Length))
			iov = append(iov, hdrs[h:], block)
			total += int(r.Length)
			served++
		}
		i = j
	}
	if len(iov) == 0 {
		c.setSending(false)
		return nil
	}
	if l := c.cfg.Limiter; l != nil {
		if wait := l.Reserve(total); wait > 0 {
			c.timer.Reset(wait)
			select {
			case <-c.timer.C:
			case <-c.done:
				c.timer.Stop()
				return ErrShutdown
			}
		}
	}
	c.bufs = iov
	_, err := writeBuffers(c.nc, &c.bufs)
	c.bufs = nil
	if err != nil {
		return err
	}
	c.t.Uploaded.Add(int64(total))
	c.uploaded += int64(total)
	c.cfg.Metrics.servedRequests(served)
	// Not sending before a piece counts as sent whole: the offload policy,
	// told of the piece, asks at once whether the uplink is idle, and this
	// connection must not look busy with the batch that just left.
	c.setSending(false)
	if c.t.Offload {
		c.countDelivered(hdrs)
	}
	return nil
}

// setSending records whether the writer is serving a batch (Busy). A
// batch that fails leaves it set: the connection closes, and a closed one
// is never busy.
func (c *Conn) setSending(sending bool) {
	c.mu.Lock()
	c.sending = sending
	c.noteBusy()
	c.mu.Unlock()
}

// countDelivered adds the blocks just sent, read back from their piece
// headers, to what each offered piece has received, and tells the offload
// policy of every piece now sent whole: the peer has it, whether or not it
// says so. Clients need not send have for a piece we announced (aria2c
// does not), and without this the policy would wait for them forever.
func (c *Conn) countDelivered(hdrs []byte) {
	for ; len(hdrs) >= peerwire.PieceHeaderLen; hdrs = hdrs[peerwire.PieceHeaderLen:] {
		n := binary.BigEndian.Uint32(hdrs) - 9
		index := binary.BigEndian.Uint32(hdrs[5:])
		if c.delivered == nil {
			c.delivered = make(map[uint32]uint32)
		}
		c.delivered[index] += n
		if c.delivered[index] >= c.t.pieceSize(index) {
			delete(c.delivered, index)
			c.t.Have(c, index)
		}
	}
}

// slogger adds a connection's peer and torrent to debug logs, and builds
// nothing when debug logging is off.
type slogger struct {
	log *slog.Logger
	c   *Conn
}

func (l *slogger) debug(msg string, args ...any) {
	if !l.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.log.Debug(msg, append(args, "peer", l.c.addr.String(), "name", l.c.t.Name)...)
}

// readFailed rejects requests whose blocks could not be read and, unless
// the storage already invalidated them (a file changed), invalidates the
// pieces of the run: a disk error may be passing, or not.
func (c *Conn) readFailed(reqs []peerwire.Request, off int64, n int, err error) {
	if !errors.Is(err, storage.ErrChanged) {
		c.t.Invalidate(off, int64(n), err.Error())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range reqs {
		c.reject(r, RejectReadError)
	}
}
