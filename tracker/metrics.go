package tracker

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
)

// Protocol is the frontend a request came through, a metrics label.
type Protocol int

// Protocols.
const (
	ProtoHTTP Protocol = iota
	ProtoUDP
	numProtos
)

var protoNames = [numProtos]string{"http", "udp"}

// Action is what a request asked for, a metrics label.
type Action int

// Actions.
const (
	ActionAnnounce Action = iota
	ActionScrape
	ActionConnect
	numActions
)

var actionNames = [numActions]string{"announce", "scrape", "connect"}

// Result classifies a request's outcome, a metrics label.
type Result int

// Results: answered; refused for the client's own fault (a Failure); or
// not served because the store failed.
const (
	ResultOK Result = iota
	ResultClientError
	ResultUnavailable
	numResults
)

var resultNames = [numResults]string{"ok", "client_error", "unavailable"}

// ResultOf classifies the error a request ended with.
func ResultOf(err error) Result {
	if err == nil {
		return ResultOK
	}
	var f Failure
	if errors.As(err, &f) && f != ErrUnavailable {
		return ResultClientError
	}
	return ResultUnavailable
}

// store operations, a metrics label.
const (
	opAnnounce = iota
	opScrape
	numOps
)

var opNames = [numOps]string{"announce", "scrape"}

// Metrics are the tracker's Prometheus metrics. Every labelled child is
// resolved once here, so recording a request costs no map lookup and no
// allocation. A nil *Metrics records nothing.
type Metrics struct {
	requests  [numProtos][numActions][numResults]prometheus.Counter
	latency   [numProtos][numActions]prometheus.Observer
	peers     [numProtos]prometheus.Observer
	downloads prometheus.Counter
	storeTime [numOps]prometheus.Observer
	storeErrs [numOps]prometheus.Counter
}

// NewMetrics registers the tracker's metrics with reg. No label carries an
// info hash, a peer ID or an address.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "tracker", Name: "requests_total",
		Help: "Requests answered, by protocol, action and result (ok, client_error, unavailable).",
	}, []string{"protocol", "action", "result"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metrics.Namespace, Subsystem: "tracker", Name: "request_duration_seconds",
		Help:    "Time from a parsed request to its answer, by protocol and action.",
		Buckets: metrics.LatencyBuckets,
	}, []string{"protocol", "action"})
	peers := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metrics.Namespace, Subsystem: "tracker", Name: "response_peers",
		Help:    "Peers returned in one announce answer.",
		Buckets: []float64{0, 1, 5, 10, 25, 50, 100, 200},
	}, []string{"protocol"})
	downloads := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "tracker", Name: "downloads_completed_total",
		Help: "Downloads counted as finished (a completed event, or a leecher that reports nothing left).",
	})
	storeTime := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metrics.Namespace, Subsystem: "tracker", Name: "store_duration_seconds",
		Help:    "Time the swarm store took per operation.",
		Buckets: metrics.LatencyBuckets,
	}, []string{"operation"})
	storeErrs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "tracker", Name: "store_errors_total",
		Help: "Swarm store operations that failed.",
	}, []string{"operation"})
	if err := metrics.Register(reg, requests, latency, peers, downloads, storeTime, storeErrs); err != nil {
		return nil, err
	}
	m := &Metrics{downloads: downloads}
	for p := range numProtos {
		m.peers[p] = peers.WithLabelValues(protoNames[p])
		for a := range numActions {
			if Protocol(p) == ProtoHTTP && Action(a) == ActionConnect {
				continue // HTTP has no connect
			}
			m.latency[p][a] = latency.WithLabelValues(protoNames[p], actionNames[a])
			for r := range numResults {
				m.requests[p][a][r] = requests.WithLabelValues(protoNames[p], actionNames[a], resultNames[r])
			}
		}
	}
	for op := range numOps {
		m.storeTime[op] = storeTime.WithLabelValues(opNames[op])
		m.storeErrs[op] = storeErrs.WithLabelValues(opNames[op])
	}
	return m, nil
}

// Request records one answered request that took d.
func (m *Metrics) Request(p Protocol, a Action, r Result, d time.Duration) {
	if m == nil || m.requests[p][a][r] == nil {
		return
	}
	m.requests[p][a][r].Inc()
	m.latency[p][a].Observe(d.Seconds())
}

// Peers records the number of peers in one announce answer.
func (m *Metrics) Peers(p Protocol, n int) {
	if m == nil {
		return
	}
	m.peers[p].Observe(float64(n))
}

func (m *Metrics) store(op int, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.storeTime[op].Observe(d.Seconds())
	if err != nil {
		m.storeErrs[op].Inc()
	}
}

func (m *Metrics) download() {
	if m != nil {
		m.downloads.Inc()
	}
}
