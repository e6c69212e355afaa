package dhtnode

import (
	"net/netip"
	"sync"
	"time"
)

// maxTrackedIPs bounds the sources the per-IP limit remembers. Past it,
// idle sources are forgotten; when none is idle, new sources are refused
// until some are: a flood from that many addresses at once is an attack,
// and the node's total send rate still holds.
const maxTrackedIPs = 10000

// ipLimiter is a token bucket per IP: rate tokens a second, up to burst.
type ipLimiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newIPLimiter(rate, burst float64, now func() time.Time) *ipLimiter {
	return &ipLimiter{rate: rate, burst: burst, now: now, buckets: map[netip.Addr]*bucket{}}
}

// allow takes a token from ip's bucket, reporting whether there was one.
func (l *ipLimiter) allow(ip netip.Addr) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxTrackedIPs && !l.forgetIdle(now) {
			return false
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// forgetIdle drops the buckets that have refilled (their sources are as
// good as new) and reports whether any went; l.mu is held.
func (l *ipLimiter) forgetIdle(now time.Time) bool {
	n := len(l.buckets)
	for ip, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, ip)
		}
	}
	return len(l.buckets) < n
}
