package seeder

import (
	"context"
	"log/slog"
	"time"

	"github.com/bitorigin/bitorigin/peerwire"
)

// writeLoop sends control messages and blocks until the connection closes.
func (c *conn) writeLoop() {
	c.lastWrite = time.Now()
	tick := time.NewTicker(c.s.cfg.KeepAlive / 2)
	defer tick.Stop()
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	for {
		more, err := c.writeStep()
		if err != nil {
			c.close(err)
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
			if now.Sub(c.lastWrite) >= c.s.cfg.KeepAlive {
				c.setWriteDeadline(now)
				err := c.w.WriteKeepAlive()
				if err == nil {
					err = c.w.Flush()
				}
				if err != nil {
					c.close(err)
					return
				}
				c.lastWrite = now
			}
		}
	}
}

// writeStep sends the waiting control messages and serves at most one
// request. It reports whether there was anything to do.
func (c *conn) writeStep() (bool, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return false, nil
	}
	ctrl := c.out
	c.out, c.spare = c.spare[:0], nil
	req, ok := c.queue.pop()
	c.mu.Unlock()
	if len(ctrl) == 0 && !ok {
		c.spare = ctrl
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
	if ok {
		if err := c.serve(req); err != nil {
			return false, err
		}
	}
	if c.w.Buffered() > 0 {
		if err := c.w.Flush(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// setWriteDeadline gives the next writes WriteTimeout, moving the deadline
// at most once a second.
func (c *conn) setWriteDeadline(now time.Time) {
	if c.deadline.Sub(now) < c.s.cfg.WriteTimeout-time.Second {
		c.deadline = now.Add(c.s.cfg.WriteTimeout)
		c.nc.SetWriteDeadline(c.deadline)
	}
}

// serve reads one requested block from disk and sends it.
func (c *conn) serve(r peerwire.Request) error {
	if cap(c.block) < int(r.Length) {
		c.block = make([]byte, c.s.cfg.MaxRequest)
	}
	block := c.block[:r.Length]
	off := int64(r.Index)*int64(c.sw.pieceLen) + int64(r.Begin)
	if _, err := c.sw.storage.ReadAt(block, off); err != nil {
		// The file changed or vanished under us: tell the peer, keep
		// serving the rest.
		c.s.log.Warn("cannot read block", "name", c.sw.Name(), "piece", r.Index, "err", err)
		c.mu.Lock()
		c.reject(r)
		c.mu.Unlock()
		return nil
	}
	if l := c.s.limiter; l != nil {
		if wait := l.reserve(len(block)); wait > 0 {
			c.timer.Reset(wait)
			select {
			case <-c.timer.C:
			case <-c.done:
				c.timer.Stop()
				return errShutdown
			}
		}
	}
	if err := c.w.WritePiece(r.Index, r.Begin, block); err != nil {
		return err
	}
	c.sw.uploaded.Add(int64(len(block)))
	c.uploaded += int64(len(block))
	return nil
}

// slogger adds a connection's peer and torrent to debug logs, and builds
// nothing when debug logging is off.
type slogger struct {
	log *slog.Logger
	c   *conn
}

func (l *slogger) debug(msg string, args ...any) {
	if !l.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.log.Debug(msg, append(args, "peer", l.c.addr.String(), "name", l.c.sw.Name())...)
}
