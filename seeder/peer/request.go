package peer

import "github.com/bitorigin/bitorigin/peerwire"

// badRequest says why a request cannot be served; empty for a good one.
type badRequest string

// Reasons a request is refused.
const (
	requestOK       badRequest = ""
	requestIndex    badRequest = "piece index out of range"
	requestRange    badRequest = "block outside the piece"
	requestLength   badRequest = "block too long"
	requestEmpty    badRequest = "empty block"
	requestMissing  badRequest = "piece not verified"
	requestOverflow badRequest = "more requests than reqq"
	// requestNotOffered: under offload, a piece not revealed to the peer.
	requestNotOffered badRequest = "piece not offered to the peer"
	// Bad extension and v2 messages, counted with the bad requests.
	metadataMalformed badRequest = "malformed ut_metadata message"
	metadataRange     badRequest = "ut_metadata piece out of range"
	hashRequestBad    badRequest = "hash request outside the file's tree"
)

// checkRequest validates a request against the torrent: the index in
// range, the block inside its piece, at most maxLen bytes, and a piece
// served now (verified, its files unchanged since). The codec checked only
// the framing.
func (t *Torrent) checkRequest(r *peerwire.Request, maxLen uint32) badRequest {
	switch {
	case r.Index >= t.Pieces:
		return requestIndex
	case r.Length == 0:
		return requestEmpty
	case r.Length > maxLen:
		return requestLength
	// Written so that neither side can overflow: Begin <= size first.
	case r.Begin > t.pieceSize(r.Index) || r.Length > t.pieceSize(r.Index)-r.Begin:
		return requestRange
	case !t.Served.Has(r.Index):
		return requestMissing
	}
	return requestOK
}

// requestQueue is a FIFO of requests, bounded by its user. It reuses its
// array, so steady serving does not allocate.
type requestQueue struct {
	buf  []peerwire.Request
	head int
}

func (q *requestQueue) len() int { return len(q.buf) - q.head }

func (q *requestQueue) push(r peerwire.Request) {
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		// Slide the live part down rather than grow.
		n := copy(q.buf, q.buf[q.head:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, r)
}

func (q *requestQueue) pop() (peerwire.Request, bool) {
	if q.head == len(q.buf) {
		return peerwire.Request{}, false
	}
	r := q.buf[q.head]
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	return r, true
}

// remove deletes the first request equal to r and reports whether there
// was one.
func (q *requestQueue) remove(r peerwire.Request) bool {
	for i := q.head; i < len(q.buf); i++ {
		if q.buf[i] == r {
			copy(q.buf[i:], q.buf[i+1:])
			q.buf = q.buf[:len(q.buf)-1]
			if q.head == len(q.buf) {
				q.buf, q.head = q.buf[:0], 0
			}
			return true
		}
	}
	return false
}

// drain calls f on every queued request, in order, and empties the queue.
func (q *requestQueue) drain(f func(peerwire.Request)) {
	for _, r := range q.buf[q.head:] {
		f(r)
	}
	q.buf, q.head = q.buf[:0], 0
}
