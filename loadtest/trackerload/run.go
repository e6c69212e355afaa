package trackerload

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/loadtest"
)

// startLead is the time between setting the schedule up and its first
// request, for the workers to start.
const startLead = 20 * time.Millisecond

// runner is one Run: the schedule, the workers and their tallies.
type runner struct {
	cfg    Config
	wl     *workload
	client client
	lat    *loadtest.Latency
	// start is when the first request is due, measureFrom when the
	// warm-up ends, end when the last request may be due.
	start, measureFrom, end time.Time
	workers                 []*worker
	due                     *dueQueue // realistic mode only

	// Live counts for the progress line, warm-up included.
	sent, answered, failed, inFlight atomic.Int64
}

// worker is one request slot: a session and what it tallied.
type worker struct {
	id   int
	sess session
	rng  *rand.Rand
	st   *stats
	q    query
	a    answer
}

// job is a request the schedule wants sent: when it was due, and for the
// realistic mode which peer is due.
type job struct {
	due time.Time
	p   *peer
}

// Run sends the load cfg describes until its warm-up and duration are
// over, or ctx is done, and reports on the measured part. An error means
// the run could not start (a bad config, no socket); failed requests are
// counted in the report, not returned.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	wl, err := newWorkload(&cfg)
	if err != nil {
		return nil, err
	}
	cl, err := newClient(&cfg)
	if err != nil {
		return nil, err
	}
	defer cl.close()
	r := &runner{cfg: cfg, wl: wl, client: cl, lat: loadtest.NewLatency(4 * runtime.GOMAXPROCS(0))}
	defer r.closeSessions()
	for i := range cfg.slots() {
		s, err := cl.session(i)
		if err != nil {
			return nil, err
		}
		r.workers = append(r.workers, &worker{
			id: i, sess: s, st: newStats(i),
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)),
		})
	}
	r.start = time.Now().Add(startLead)
	r.measureFrom = r.start.Add(cfg.Warmup)
	r.end = r.measureFrom.Add(cfg.Duration)

	var p *loadtest.Progress
	if cfg.Progress != nil {
		p = loadtest.StartProgress(cfg.Progress, time.Second, r.progressLine())
	}
	var intended, backlogged int64
	switch cfg.mode() {
	case "closed":
		r.runClosed(ctx)
	case "open":
		intended, backlogged = r.runOpen(ctx)
	case "realistic":
		intended, backlogged = r.runRealistic(ctx)
	}
	stopped := time.Now()
	if p != nil {
		p.Stop()
	}
	return r.report(intended, backlogged, stopped, ctx.Err() != nil), nil
}

func (r *runner) closeSessions() {
	for _, w := range r.workers {
		w.sess.close()
	}
}

// runClosed runs every worker back to back until the end.
func (r *runner) runClosed(ctx context.Context) {
	var wg sync.WaitGroup
	time.Sleep(time.Until(r.start))
	for _, w := range r.workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				now := time.Now()
				if !now.Before(r.end) {
					return
				}
				r.exec(w, job{due: now})
			}
		})
	}
	wg.Wait()
}

// runOpen sends requests at t0 + i/rate. It returns how many were due in
// the measured window and how many had to wait for a free slot.
func (r *runner) runOpen(ctx context.Context) (intended, backlogged int64) {
	jobs := make(chan job)
	wg := r.startWorkers(jobs)
	period := float64(time.Second) / r.cfg.Rate
	stop := r.end
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	endTimer := time.NewTimer(time.Until(r.end))
	defer endTimer.Stop()
loop:
	for i := 0.0; ; i++ {
		due := r.start.Add(time.Duration(i * period))
		if !due.Before(r.end) {
			break
		}
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				stop = time.Now()
				break loop
			case <-timer.C:
			}
		}
		if ok, waited := r.send(ctx, jobs, job{due: due}, endTimer.C); !ok {
			stop = time.Now()
			break
		} else if waited && !due.Before(r.measureFrom) {
			backlogged++
		}
	}
	close(jobs)
	wg.Wait()
	// Due in [measureFrom, stop): every one of them was sent or dropped.
	count := func(t time.Time) int64 {
		return int64(math.Ceil(max(float64(t.Sub(r.start)), 0) / period))
	}
	return max(count(earlier(stop, r.end))-count(r.measureFrom), 0), backlogged
}

// send hands j to a free worker. When every worker is busy it waits for one
// (the request is backlogged, and its latency still counts from j.due)
// until the run ends.
func (r *runner) send(ctx context.Context, jobs chan<- job, j job, end <-chan time.Time) (ok, waited bool) {
	select {
	case jobs <- j:
		return true, false
	default:
	}
	select {
	case jobs <- j:
		return true, true
	case <-ctx.Done():
	case <-end:
	}
	return false, true
}

func (r *runner) startWorkers(jobs <-chan job) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Go(func() {
			for j := range jobs {
				r.exec(w, j)
			}
		})
	}
	return &wg
}

// exec sends one request and tallies it. j.p is the due peer in realistic
// mode; otherwise a peer and action are drawn from the mix.
func (r *runner) exec(w *worker, j job) {
	measured := !j.due.Before(r.measureFrom) && j.due.Before(r.end)
	if time.Since(j.due) > r.cfg.Timeout {
		// Waited longer for a slot than a request may take: dropped,
		// and counted as such by the schedule.
		if j.p != nil {
			r.due.push(j.p, time.Now().Add(r.retryAfter()))
		}
		return
	}
	p, a := j.p, ActionNone
	if p == nil {
		p, a = r.wl.pick(w.rng)
	} else {
		p.mu.Lock()
		a = r.wl.due(p, w.rng)
	}
	r.wl.apply(p, a, w.rng, &w.q)
	w.a.reset()
	r.sent.Add(1)
	r.inFlight.Add(1)
	err := w.sess.do(&w.q, &w.a)
	took := time.Since(j.due)
	r.inFlight.Add(-1)
	if j.p != nil {
		r.due.push(p, time.Now().Add(r.nextAnnounce(p, &w.a, err)))
	}
	p.mu.Unlock()
	if err != nil {
		r.failed.Add(1)
	} else {
		r.answered.Add(1)
	}
	if measured {
		w.st.record(&w.q, &w.a, err)
		if err == nil {
			r.lat.Record(w.id, took)
		}
	}
}

// progressLine returns the function that draws the status line.
func (r *runner) progressLine() func(time.Duration) string {
	var lastSent, lastAnswered int64
	last := time.Now()
	return func(time.Duration) string {
		now := time.Now()
		sent, answered := r.sent.Load(), r.answered.Load()
		secs := max(now.Sub(last).Seconds(), 1e-3)
		line := fmt.Sprintf("%s %5.1fs  sent %d (%.0f/s)  answered %d (%.0f/s)  errors %d  in flight %d",
			r.phase(now), now.Sub(r.start).Seconds(), sent, float64(sent-lastSent)/secs,
			answered, float64(answered-lastAnswered)/secs, r.failed.Load(), r.inFlight.Load())
		lastSent, lastAnswered, last = sent, answered, now
		return line
	}
}

func (r *runner) phase(now time.Time) string {
	switch {
	case now.Before(r.measureFrom):
		return "warm-up  "
	case now.Before(r.end):
		return "measuring"
	}
	return "draining "
}

// earlier returns the earlier of two times.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
