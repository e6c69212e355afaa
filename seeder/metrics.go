package seeder

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/metrics"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// announceResult classifies one announce to one tracker, a metrics label.
type announceResult int

// Announce results: answered; refused with a failure reason; or not
// reached (network error, timeout, bad answer).
const (
	announceOK announceResult = iota
	announceFailure
	announceError
	numAnnounceResults
)

var announceNames = [numAnnounceResults]string{"ok", "failure", "error"}

// Metrics are the seeder's Prometheus metrics that count events: requests,
// disk reads, announces, connections, rechecks (the preparation of
// torrents has its own, content.Metrics). Gauges of the running seeder (peers, torrents served, per-torrent
// bytes) come from Seeder.Collector at scrape time instead, so they follow
// Add and Remove. Every labelled child is resolved
// once here, so the block-serving path does atomic adds only. A nil
// *Metrics records nothing.
type Metrics struct {
	// peer are the counters of the connections: requests served and
	// rejected, disk reads, hash requests.
	peer      *peer.Metrics
	announces [numAnnounceResults]prometheus.Counter
	conns     [2]prometheus.Counter // incoming, outgoing
	// dropped counts incoming connections closed by admission: a
	// handshake evicted to make room, a newcomer refused.
	dropped [2]prometheus.Counter // evicted, refused
	// invalidations counts files found changed and failed reads;
	// recheckedPieces the pieces verified again after them, by result.
	invalidations   prometheus.Counter
	recheckedPieces [2]prometheus.Counter // bad, good
}

// NewMetrics registers the seeder's metrics with reg. No label carries a
// peer ID or an address.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	const sub = "seeder"
	served := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "requests_served_total",
		Help: "Block requests answered with their block.",
	})
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "requests_rejected_total",
		Help: "Block requests not served, by reason: a reject message to Fast peers (BEP 6), silence to others.",
	}, []string{"reason"})
	diskRead := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "disk_read_duration_seconds",
		Help:    "Time one positional read of a run of requested blocks took.",
		Buckets: metrics.LatencyBuckets,
	})
	announces := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "announces_total",
		Help: "Announces to one tracker, by result: ok, failure (the tracker refused), error (not reached).",
	}, []string{"result"})
	conns := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "connections_total",
		Help: "Peer connections that completed the handshake and were accepted, by direction (incoming, outgoing).",
	}, []string{"direction"})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "dropped_connections_total",
		Help: "Incoming connections closed by the connection limits, by reason: evicted (still in its handshake when a newcomer needed the room), refused (the limit was reached by established peers).",
	}, []string{"reason"})
	invalidations := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "invalidations_total",
		Help: "Files found changed on disk (truncated, rewritten, replaced, removed) and failed reads while serving: their pieces stop being served until verified again.",
	})
	rechecked := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "rechecked_pieces_total",
		Help: "Pieces verified again while serving after an invalidation, by result: good (served again), bad (not served).",
	}, []string{"result"})
	hashRequests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "hash_requests_total",
		Help: "BEP 52 hash requests of v2 peers, by answer: answered (from the piece layers), rejected (block hashes, or an invalid request).",
	}, []string{"result"})
	if err := metrics.Register(reg, served, rejected, diskRead, announces, conns, dropped,
		invalidations, rechecked, hashRequests); err != nil {
		return nil, fmt.Errorf("seeder metrics: %w", err)
	}
	m := &Metrics{peer: &peer.Metrics{Served: served, DiskRead: diskRead}}
	for r := range peer.NumRejectReasons {
		m.peer.Rejected[r] = rejected.WithLabelValues(r.String())
	}
	for r := range numAnnounceResults {
		m.announces[r] = announces.WithLabelValues(announceNames[r])
	}
	m.invalidations = invalidations
	m.recheckedPieces[0] = rechecked.WithLabelValues("bad")
	m.recheckedPieces[1] = rechecked.WithLabelValues("good")
	m.peer.HashRequests[0] = hashRequests.WithLabelValues("rejected")
	m.peer.HashRequests[1] = hashRequests.WithLabelValues("answered")
	m.conns[0] = conns.WithLabelValues("incoming")
	m.conns[1] = conns.WithLabelValues("outgoing")
	m.dropped[0] = dropped.WithLabelValues("evicted")
	m.dropped[1] = dropped.WithLabelValues("refused")
	return m, nil
}

// peerMetrics are the counters of the connections; nil records nothing.
func (m *Metrics) peerMetrics() *peer.Metrics {
	if m == nil {
		return nil
	}
	return m.peer
}

// invalidated counts a file found changed or a failed read.
func (m *Metrics) invalidated() {
	if m != nil {
		m.invalidations.Inc()
	}
}

// rechecked counts a piece verified again, good or not.
func (m *Metrics) rechecked(good bool) {
	if m == nil {
		return
	}
	if good {
		m.recheckedPieces[1].Inc()
	} else {
		m.recheckedPieces[0].Inc()
	}
}

func (m *Metrics) connected(outgoing bool) {
	if m == nil {
		return
	}
	if outgoing {
		m.conns[1].Inc()
	} else {
		m.conns[0].Inc()
	}
}

// droppedConn counts an incoming connection closed by admission.
func (m *Metrics) droppedConn(evicted bool) {
	if m == nil {
		return
	}
	if evicted {
		m.dropped[0].Inc()
	} else {
		m.dropped[1].Inc()
	}
}

// countingClient counts the announces of an announce client by result.
type countingClient struct {
	announcer.Client
	m *Metrics
}

// Announce announces through the wrapped client and counts the result; an
// announce cut short by shutdown is not counted.
func (c countingClient) Announce(ctx context.Context, trackerURL string, req *announcer.Request) (*announcer.Response, error) {
	resp, err := c.Client.Announce(ctx, trackerURL, req)
	var f *announcer.FailureError
	switch {
	case err == nil:
		c.m.announces[announceOK].Inc()
	case errors.As(err, &f):
		c.m.announces[announceFailure].Inc()
	case ctx.Err() == nil:
		c.m.announces[announceError].Inc()
	}
	return resp, err
}

// countAnnounces wraps every client so that its announces are counted.
func (m *Metrics) countAnnounces(clients map[string]announcer.Client) map[string]announcer.Client {
	if m == nil {
		return clients
	}
	out := make(map[string]announcer.Client, len(clients))
	for scheme, c := range clients {
		out[scheme] = countingClient{c, m}
	}
	return out
}
