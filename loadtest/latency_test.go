package loadtest

import (
	"sync"
	"testing"
	"time"
)

func TestLatencyMergesShardsIntoPercentiles(t *testing.T) {
	l := NewLatency(4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 1; i <= 250; i++ {
				l.Record(w, time.Duration((i-1)*4+w+1)*time.Millisecond) // 1..1000 ms across the shards
			}
		})
	}
	wg.Wait()
	s := l.Summary()
	if s.Count != 1000 {
		t.Fatalf("count %d, want 1000", s.Count)
	}
	near := func(name string, got, want float64) {
		if got < want*0.99 || got > want*1.01 {
			t.Errorf("%s %.2fms, want about %.0fms", name, got, want)
		}
	}
	near("p50", s.P50, 500)
	near("p90", s.P90, 900)
	near("p99", s.P99, 990)
	near("p99.9", s.P999, 999)
	near("max", s.Max, 1000)
	near("mean", s.Mean, 500.5)
}

func TestLatencyClampsValuesOutOfRange(t *testing.T) {
	l := NewLatency(0)
	l.Record(-3, -time.Second)
	l.Record(7, 48*time.Hour)
	s := l.Summary()
	if s.Count != 2 || s.Max < 3.5e6 || s.P50 > 0.01 {
		t.Errorf("summary %+v: want one value clamped to 1µs and one to an hour", s)
	}
	if (Summary{}) != NewLatency(1).Summary() {
		t.Error("an empty histogram should summarise to zeros")
	}
}
