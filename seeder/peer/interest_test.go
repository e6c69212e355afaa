package peer

import (
	"testing"
	"time"
)

func TestInterestPacerAppliesAtOnceThenCoalesces(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var p interestPacer
	type step struct {
		at    time.Duration // since t0
		flush bool          // the scheduled flush runs, rather than a change
		apply bool
		wait  time.Duration
	}
	for i, s := range []step{
		{at: 0, apply: true}, // first change: at once
		{at: 10 * time.Millisecond, wait: 90 * time.Millisecond}, // within the interval: flush later
		{at: 20 * time.Millisecond},                              // flush already due: nothing more
		{at: 99 * time.Millisecond},
		{at: 100 * time.Millisecond, flush: true}, // the flush tells the choker
		{at: 150 * time.Millisecond, wait: 50 * time.Millisecond},
		{at: 200 * time.Millisecond, flush: true},
		{at: 5 * time.Second, apply: true}, // after a quiet interval: at once again
	} {
		now := t0.Add(s.at)
		if s.flush {
			p.flushed(now)
			continue
		}
		apply, wait := p.change(now)
		if apply != s.apply || wait != s.wait {
			t.Fatalf("step %d at %s: apply %v, wait %s; want %v, %s", i, s.at, apply, wait, s.apply, s.wait)
		}
	}
}
