package loadtest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress redraws one status line on a terminal every second until it is
// stopped, then ends the line so the report starts on a fresh one.
type Progress struct {
	w     io.Writer
	line  func(elapsed time.Duration) string
	start time.Time
	stop  context.CancelFunc
	done  sync.WaitGroup
}

// StartProgress starts drawing line on w every interval. A nil w draws
// nothing: callers pass nil unless w is a terminal.
func StartProgress(w io.Writer, interval time.Duration, line func(elapsed time.Duration) string) *Progress {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Progress{w: w, line: line, start: time.Now(), stop: cancel}
	if w == nil {
		return p
	}
	p.done.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				p.draw()
				fmt.Fprintln(p.w)
				return
			case <-t.C:
				p.draw()
			}
		}
	})
	return p
}

func (p *Progress) draw() {
	// \r and "erase to end of line": the new line may be shorter.
	fmt.Fprintf(p.w, "\r\033[K%s", p.line(time.Since(p.start)))
}

// Stop draws the line a last time and ends it. It is safe to call twice.
func (p *Progress) Stop() {
	p.stop()
	p.done.Wait()
}
