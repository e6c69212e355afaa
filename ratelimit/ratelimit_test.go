package ratelimit

import (
	"testing"
	"time"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBucketSpreadsBlocksOverTime(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	l := New(100<<10, 16<<10, clk.now)
	// The burst (16 KiB, above rate/10) goes at once; then each 16 KiB
	// block costs 160 ms of debt.
	if w := l.Reserve(16 << 10); w != 0 {
		t.Fatalf("first block waits %s", w)
	}
	if w := l.Reserve(16 << 10); w != 160*time.Millisecond {
		t.Fatalf("second block waits %s, want 160ms", w)
	}
	clk.advance(time.Second) // pays the debt, refills up to the burst
	if w := l.Reserve(16 << 10); w != 0 {
		t.Fatalf("after a second, block waits %s", w)
	}
}

func TestBucketHoldsTheCapOverTime(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	const rate, block = 1 << 20, 16 << 10
	b := New(rate, block, clk.now)
	// A sender that sends each block when told: after the burst, the
	// bytes sent over ten seconds are the rate times ten, give or take
	// the burst.
	sent := 0
	for clk.t.Before(time.Unix(1010, 0)) {
		wait := b.Reserve(block)
		clk.advance(wait)
		sent += block
	}
	got := float64(sent) / 10
	if got < rate || got > rate*1.15 {
		t.Errorf("sent %.0f bytes/s with a cap of %d", got, rate)
	}
}

func TestBucketLetsABurstThroughThenMakesWritersWaitInTurn(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := New(160<<10, 16<<10, clk.now) // a burst of one block
	if w := b.Reserve(16 << 10); w != 0 {
		t.Fatalf("first block waits %s, want 0", w)
	}
	w1, w2 := b.Reserve(16<<10), b.Reserve(16<<10)
	if w1 != 100*time.Millisecond || w2 != 200*time.Millisecond {
		t.Errorf("two writers asking at once wait %s and %s, want 100ms and 200ms", w1, w2)
	}
	if b.Burst() != 16<<10 {
		t.Errorf("burst %d, want one block", b.Burst())
	}
}

func TestNilBucketIsNoCap(t *testing.T) {
	var b *Bucket
	if w := b.Reserve(1 << 30); w != 0 {
		t.Errorf("wait %s, want 0", w)
	}
}
