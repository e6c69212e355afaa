package swarmload

import (
	"sync"
	"time"
)

// bucket is a token bucket that caps one trading leecher's upload: every
// connection's writer takes the tokens for a block before sending it and
// waits as long as it is told. The bucket may go into debt, so writers
// that ask at once are spread out in time rather than woken together.
type bucket struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// newBucket returns a bucket of bytesPerSecond that holds at most a tenth
// of a second's worth, and never less than one block.
func newBucket(bytesPerSecond int64, block int, now func() time.Time) *bucket {
	burst := max(float64(bytesPerSecond)/10, float64(block))
	return &bucket{rate: float64(bytesPerSecond), burst: burst, tokens: burst, last: now(), now: now}
}

// reserve takes n bytes' worth of tokens and returns how long the caller
// must wait before sending them. A nil bucket is no cap.
func (b *bucket) reserve(n int) time.Duration {
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
