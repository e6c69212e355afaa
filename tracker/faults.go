package tracker

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// faultLog reports store failures once per burst rather than once per
// request: the first failure is logged, then a reminder every minute while
// the store keeps failing, then one line when it recovers.
type faultLog struct {
	log *slog.Logger
	// failing is read on every successful request, so it is an atomic
	// and the mutex is taken only while the store fails.
	failing atomic.Bool

	mu       sync.Mutex
	since    time.Time
	lastLog  time.Time
	failures int64
}

// remindEvery is how often a lasting outage is logged again.
const remindEvery = time.Minute

func (f *faultLog) fail(op string, err error) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures++
	switch {
	case !f.failing.Load():
		f.failing.Store(true)
		f.since, f.lastLog = now, now
		f.log.Error("swarm store failing: clients are told the tracker is temporarily unavailable", "op", op, "err", err)
	case now.Sub(f.lastLog) >= remindEvery:
		f.lastLog = now
		f.log.Error("swarm store still failing", "op", op, "err", err, "failed_requests", f.failures, "for", now.Sub(f.since).Round(time.Second))
	}
}

func (f *faultLog) ok() {
	if !f.failing.Load() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failing.Load() {
		return
	}
	f.failing.Store(false)
	f.log.Info("swarm store recovered", "failed_requests", f.failures, "after", time.Since(f.since).Round(time.Millisecond))
	f.failures = 0
}
