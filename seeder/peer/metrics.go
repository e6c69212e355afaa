package peer

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RejectReason is why a block request was not served, a metrics label.
type RejectReason int

// Reasons a request gets a reject (or, without Fast, silence).
const (
	RejectChoked     RejectReason = iota // sent while choked, or queued when we choked
	RejectCancelled                      // cancelled by the peer while queued
	RejectIndex                          // piece index out of range
	RejectRange                          // block outside its piece
	RejectLength                         // block longer than --max-request
	RejectEmpty                          // zero-length block
	RejectMissing                        // piece not verified: failed, or its file changed
	RejectOverflow                       // more queued requests than reqq
	RejectReadError                      // the data could not be read
	RejectNotOffered                     // not revealed to the peer by the offload policy
	NumRejectReasons
)

var rejectNames = [NumRejectReasons]string{
	"choked", "cancelled", "bad_index", "bad_range", "too_long", "empty", "not_verified", "over_reqq", "read_error",
	"not_offered",
}

// String is the reason's metrics label.
func (r RejectReason) String() string { return rejectNames[r] }

// rejectReasonOf maps a failed request check to its label.
func rejectReasonOf(why badRequest) RejectReason {
	switch why {
	case requestIndex:
		return RejectIndex
	case requestRange:
		return RejectRange
	case requestLength:
		return RejectLength
	case requestEmpty:
		return RejectEmpty
	case requestMissing:
		return RejectMissing
	case requestNotOffered:
		return RejectNotOffered
	}
	return RejectOverflow
}

// Metrics are the counters the connections keep, registered by the
// seeder's metrics, each labelled child resolved once so that the
// block-serving path does atomic adds only. A nil *Metrics records
// nothing.
type Metrics struct {
	// Served counts block requests answered with their block, Rejected
	// those not served by reason.
	Served   prometheus.Counter
	Rejected [NumRejectReasons]prometheus.Counter
	// DiskRead observes the time of one positional read of a run of
	// requested blocks.
	DiskRead prometheus.Observer
	// HashRequests counts BEP 52 hash requests: rejected, answered.
	HashRequests [2]prometheus.Counter
}

// hashRequest counts a BEP 52 hash request, answered or rejected.
func (m *Metrics) hashRequest(answered bool) {
	if m != nil {
		i := 0
		if answered {
			i = 1
		}
		m.HashRequests[i].Inc()
	}
}

// servedRequests counts n requests answered with their blocks.
func (m *Metrics) servedRequests(n int) {
	if m != nil {
		m.Served.Add(float64(n))
	}
}

func (m *Metrics) rejectedRequest(why RejectReason) {
	if m != nil {
		m.Rejected[why].Inc()
	}
}

func (m *Metrics) diskReadTook(d time.Duration) {
	if m != nil {
		m.DiskRead.Observe(d.Seconds())
	}
}
