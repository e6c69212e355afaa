package loadtest

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Bounds of a Latency histogram: values are recorded in microseconds,
// from 1 µs to one hour, with three significant digits.
const (
	lowestMicros  = 1
	highestMicros = int64(time.Hour / time.Microsecond)
	sigFigs       = 3
)

// Latency is an HDR histogram of durations that many goroutines record
// into. It is split into shards, each with its own lock, so that workers
// recording at tens of thousands of values a second do not queue on one
// lock; a worker passes its own number as the shard hint.
type Latency struct {
	shards []latencyShard
}

type latencyShard struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
	_  [40]byte // keep neighbouring locks off one cache line
}

// NewLatency returns an empty histogram with the given number of shards
// (at least one).
func NewLatency(shards int) *Latency {
	l := &Latency{shards: make([]latencyShard, max(shards, 1))}
	for i := range l.shards {
		l.shards[i].h = hdrhistogram.New(lowestMicros, highestMicros, sigFigs)
	}
	return l
}

// Record adds d to the shard picked by hint. Durations beyond the
// histogram's range are clamped to it: one absurd value must not be lost,
// nor make the run fail.
func (l *Latency) Record(hint int, d time.Duration) {
	us := min(max(d.Microseconds(), lowestMicros), highestMicros)
	s := &l.shards[uint(hint)%uint(len(l.shards))]
	s.mu.Lock()
	_ = s.h.RecordValue(us) // cannot fail: clamped into range above
	s.mu.Unlock()
}

// Summary merges the shards and returns their percentiles.
func (l *Latency) Summary() Summary {
	all := hdrhistogram.New(lowestMicros, highestMicros, sigFigs)
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		all.Merge(s.h)
		s.mu.Unlock()
	}
	return summarize(all)
}

// Summary is a latency distribution in milliseconds, as reports print it.
type Summary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Summary{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}
