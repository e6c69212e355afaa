// Package progress draws a one-line progress bar for long jobs such as
// hashing, on a terminal only: piped or redirected output stays clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// redrawEvery limits redraws: a terminal cannot show more, and writing on
// every piece would cost real time when pieces are small.
const redrawEvery = 100 * time.Millisecond

// Bar is a progress bar. Its methods are safe for concurrent use, and a
// Bar that is not drawing (not a terminal) costs nearly nothing.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer // nil when not drawing
	label string
	now   func() time.Time
	start time.Time
	last  time.Time
	drawn bool
	done  int64
	total int64
}

// New returns a bar labelled label that draws on w when w is a terminal and
// does nothing otherwise.
func New(w io.Writer, label string) *Bar {
	if !IsTerminal(w) {
		w = nil
	}
	return newBar(w, label, time.Now)
}

func newBar(w io.Writer, label string, now func() time.Time) *Bar {
	return &Bar{w: w, label: label, now: now, start: now()}
}

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update records that done of total bytes are finished and redraws the bar
// if enough time has passed or the job is complete.
func (b *Bar) Update(done, total int64) {
	if b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.total = done, total
	now := b.now()
	if done < total && now.Sub(b.last) < redrawEvery {
		return
	}
	b.last = now
	b.drawn = true
	// \r returns to the line start; \x1b[K clears what a longer line left.
	fmt.Fprintf(b.w, "\r%s\x1b[K", Line(b.label, done, total, now.Sub(b.start)))
}

// Finish ends the bar's line so later output starts on a fresh one.
func (b *Bar) Finish() {
	if b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintf(b.w, "\r%s\x1b[K\n", Line(b.label, b.done, b.total, b.now().Sub(b.start)))
		b.drawn = false
	}
}

// barWidth is the number of cells between the brackets.
const barWidth = 30

// Line renders one state of a bar, such as
// "hashing  42% [============>                 ] 430.0 MiB / 1.0 GiB  812.3 MiB/s".
func Line(label string, done, total int64, elapsed time.Duration) string {
	frac := 1.0
	if total > 0 {
		frac = min(max(float64(done)/float64(total), 0), 1)
	}
	cells := int(frac * barWidth)
	bar := strings.Repeat("=", cells)
	if cells < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-cells-1)
	}
	line := fmt.Sprintf("%s %3d%% [%s] %s / %s", label, int(frac*100), bar, FormatSize(done), FormatSize(total))
	if s := elapsed.Seconds(); s > 0 {
		line += fmt.Sprintf("  %s/s", FormatSize(int64(float64(done)/s)))
	}
	return line
}

// FormatSize writes a byte count in binary units: 512 B, 1.5 KiB, 4.0 GiB.
func FormatSize(n int64) string {
	if n < 1024 && n > -1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= 1024
		if v < 1024 && v > -1024 {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return fmt.Sprintf("%.1f EiB", v/1024)
}
