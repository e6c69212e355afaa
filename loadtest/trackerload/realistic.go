package trackerload

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// retryInterval is how long a realistic peer waits after a failed announce
// before trying again, unscaled: BEP 15's first retransmission time.
const retryInterval = 15 * time.Second

// runRealistic lets every peer announce on its own schedule: the first
// announces spread over the warm-up (or the first second), each next one
// the returned interval later. It returns how many requests were due in
// the measured window and how many waited for a free slot.
func (r *runner) runRealistic(ctx context.Context) (intended, backlogged int64) {
	ramp := r.cfg.Warmup
	if ramp <= 0 {
		ramp = time.Second
	}
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0x7261))
	r.due = newDueQueue(len(r.wl.peers))
	for i := range r.wl.peers {
		r.due.push(&r.wl.peers[i], r.start.Add(time.Duration(rng.Float64()*float64(ramp))))
	}
	jobs := make(chan job)
	wg := r.startWorkers(jobs)
	endTimer := time.NewTimer(time.Until(r.end))
	defer endTimer.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	stop := r.end
loop:
	for {
		j, wait := r.due.next(time.Now(), r.end)
		switch {
		case wait < 0:
			break loop // nothing more is due before the end
		case wait > 0:
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				stop = time.Now()
				break loop
			case <-endTimer.C:
				break loop
			case <-r.due.wake:
			case <-timer.C:
			}
			continue
		}
		inWindow := !j.due.Before(r.measureFrom)
		if inWindow {
			intended++
		}
		ok, waited := r.send(ctx, jobs, j, endTimer.C)
		if waited && inWindow {
			backlogged++
		}
		if !ok {
			if ctx.Err() != nil {
				stop = time.Now()
			}
			break
		}
	}
	close(jobs)
	wg.Wait()
	// Peers due in the window that the schedule never reached were
	// dropped too.
	intended += r.due.countDue(r.measureFrom, earlier(stop, r.end))
	return intended, backlogged
}

// nextAnnounce is how long realistic peer p, locked, waits before its
// next request: the interval the tracker gave, scaled; after a scrape the
// interval of its last announce; after an error the retry time.
func (r *runner) nextAnnounce(p *peer, a *answer, err error) time.Duration {
	switch {
	case err != nil || a.failure:
		return r.retryAfter()
	case a.interval > 0:
		p.interval = max(time.Duration(float64(a.interval)*float64(time.Second)*r.cfg.IntervalScale), time.Millisecond)
	case p.interval == 0:
		return r.retryAfter()
	}
	return p.interval
}

func (r *runner) retryAfter() time.Duration {
	return max(time.Duration(float64(retryInterval)*r.cfg.IntervalScale), time.Millisecond)
}

// dueQueue holds realistic peers by the time their next request is due.
type dueQueue struct {
	mu   sync.Mutex
	h    dueHeap
	wake chan struct{} // signalled when a push makes something due sooner
}

type dueItem struct {
	at time.Time
	p  *peer
}

type dueHeap []dueItem

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newDueQueue(n int) *dueQueue {
	return &dueQueue{h: make(dueHeap, 0, n), wake: make(chan struct{}, 1)}
}

func (q *dueQueue) push(p *peer, at time.Time) {
	q.mu.Lock()
	heap.Push(&q.h, dueItem{at: at, p: p})
	first := q.h[0].p == p
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// next pops the first peer due by now. Otherwise it returns how long until
// one is due, or -1 when none is due before end.
func (q *dueQueue) next(now, end time.Time) (job, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.h) == 0 {
		// Every peer is in flight; a push will wake the scheduler.
		if d := end.Sub(now); d > 0 {
			return job{}, d
		}
		return job{}, -1
	}
	first := q.h[0]
	switch {
	case !first.at.Before(end):
		return job{}, -1
	case first.at.After(now):
		return job{}, first.at.Sub(now)
	}
	heap.Pop(&q.h)
	return job{due: first.at, p: first.p}, 0
}

// countDue counts peers due in [from, to).
func (q *dueQueue) countDue(from, to time.Time) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	var n int64
	for _, it := range q.h {
		if !it.at.Before(from) && it.at.Before(to) {
			n++
		}
	}
	return n
}
