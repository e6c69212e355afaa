package seeder

import (
	"sync"
	"time"
)

// rateLimiter is a token bucket shared by every connection's writer. A
// writer takes the tokens for a block and is told how long to wait before
// sending it; the bucket may go into debt, which spreads waiting writers
// out in time instead of waking them all at once.
type rateLimiter struct {
	mu     sync.Mutex
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newRateLimiter(bytesPerSecond int64, burst int, now func() time.Time) *rateLimiter {
	b := max(float64(bytesPerSecond)/10, float64(burst))
	return &rateLimiter{rate: float64(bytesPerSecond), burst: b, tokens: b, last: now(), now: now}
}

// reserve takes n bytes' worth of tokens and returns how long the caller
// must wait before sending them.
func (l *rateLimiter) reserve(n int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens -= float64(n)
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}
