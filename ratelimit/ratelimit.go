// Package ratelimit holds the token bucket that caps an upload: the
// seeder's --upload-rate over all its connections, and each simulated
// leecher's upload in the load tester.
package ratelimit

import (
	"sync"
	"time"
)

// Bucket is a token bucket shared by the writers of one upload. A writer
// takes the tokens for a block and is told how long to wait before sending
// it; the bucket may go into debt, which spreads writers that ask at once
// out in time instead of waking them together. A nil *Bucket is no cap.
type Bucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// New returns a bucket of bytesPerSecond that holds a tenth of a second's
// worth, and never less than minBurst bytes (a block). now is the clock;
// time.Now will do.
func New(bytesPerSecond int64, minBurst int, now func() time.Time) *Bucket {
	b := max(float64(bytesPerSecond)/10, float64(minBurst))
	return &Bucket{rate: float64(bytesPerSecond), burst: b, tokens: b, last: now(), now: now}
}

// Burst is the most bytes the bucket lets through at once.
func (b *Bucket) Burst() int { return int(b.burst) }

// Reserve takes n bytes' worth of tokens and returns how long the caller
// must wait before sending them.
func (b *Bucket) Reserve(n int) time.Duration {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
