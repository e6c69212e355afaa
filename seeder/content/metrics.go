package content

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
)

// Metrics follow the preparation of a content folder's torrents: the
// torrents queued and being verified (or created), those skipped, and the
// bytes hashed. They are the seeder's series (bitorigin_seeder_...), kept
// here beside what they count. A nil *Metrics records nothing.
type Metrics struct {
	hashed    prometheus.Counter
	hashLeft  prometheus.Gauge
	queued    prometheus.Gauge
	verifying prometheus.Gauge
	skipped   prometheus.Counter
}

// NewMetrics registers the preparation metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	const sub = "seeder"
	hashed := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "hashed_bytes_total",
		Help: "Bytes of data hashed at start, verifying torrents or creating them.",
	})
	hashLeft := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "hash_remaining_bytes",
		Help: "Bytes left to hash of the torrent being verified or created now; 0 when none is.",
	})
	pending := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "pending_torrents",
		Help: "Torrents of the content folder not served yet, by state: queued (for verification), verifying (or creating).",
	}, []string{"state"})
	skipped := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "skipped_torrents_total",
		Help: "Entries of the content folder that could not be prepared (unreadable, or the same info hash as another) and are not served.",
	})
	if err := metrics.Register(reg, hashed, hashLeft, pending, skipped); err != nil {
		return nil, fmt.Errorf("content metrics: %w", err)
	}
	return &Metrics{hashed: hashed, hashLeft: hashLeft, skipped: skipped,
		queued: pending.WithLabelValues("queued"), verifying: pending.WithLabelValues("verifying")}, nil
}

// hashProgress records n more bytes hashed, with left still to go in the
// current job.
func (m *Metrics) hashProgress(n, left int64) {
	if m != nil {
		m.hashed.Add(float64(n))
		m.hashLeft.Set(float64(left))
	}
}

// TorrentsQueued records n torrents waiting to be prepared.
func (m *Metrics) TorrentsQueued(n int) {
	if m != nil {
		m.queued.Add(float64(n))
	}
}

// TorrentVerifying records a queued torrent whose preparation started.
func (m *Metrics) TorrentVerifying() {
	if m != nil {
		m.queued.Dec()
		m.verifying.Inc()
	}
}

// TorrentPrepared records the end of a torrent's preparation: ok, or
// skipped.
func (m *Metrics) TorrentPrepared(ok bool) {
	if m == nil {
		return
	}
	m.verifying.Dec()
	if !ok {
		m.skipped.Inc()
	}
}
