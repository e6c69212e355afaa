package httpfront

import (
	"net/netip"

	"github.com/bitorigin/bitorigin/tracker"
)

// announceQuery is an announce's query string, parsed (BEP 3, BEP 23, BEP 7).
type announceQuery struct {
	req      tracker.AnnounceRequest
	port     uint16
	compact  bool
	noPeerID bool
	// ip is the address from ip, ipv4 or ipv6, kept only when the request
	// came through a trusted proxy.
	ip netip.Addr

	scratch []byte
}

func (q *announceQuery) reset() {
	q.req = tracker.AnnounceRequest{NumWant: -1}
	q.port = 0
	q.compact = true
	q.noPeerID = false
	q.ip = netip.Addr{}
	q.scratch = q.scratch[:0]
}

// parse reads a raw announce query. trusted says whether the ip, ipv4 and
// ipv6 parameters may be honoured. It allocates nothing unless one of those
// is honoured.
func (q *announceQuery) parse(raw []byte, trusted bool) error {
	q.reset()
	var haveHash, havePeer, havePort, haveLeft bool
	for len(raw) > 0 {
		var k, v []byte
		k, v, raw = nextParam(raw)
		if len(k) == 0 {
			continue
		}
		var err error
		q.scratch, err = unescape(q.scratch[:0], v)
		if err != nil {
			return err
		}
		val := q.scratch
		switch string(k) {
		case "info_hash":
			if haveHash {
				return tracker.ErrDuplicateParam
			}
			if len(val) != 20 {
				return tracker.ErrBadInfoHash
			}
			copy(q.req.InfoHash[:], val)
			haveHash = true
		case "peer_id":
			if len(val) != 20 {
				return tracker.ErrBadPeerID
			}
			copy(q.req.PeerID[:], val)
			havePeer = true
		case "port":
			n, ok := parseUint(val)
			if !ok || n < 1 || n > 65535 {
				return tracker.ErrBadPort
			}
			q.port = uint16(n)
			havePort = true
		case "uploaded":
			n, ok := parseUint(val)
			if !ok {
				return tracker.ErrBadUploaded
			}
			q.req.Uploaded = n
		case "downloaded":
			n, ok := parseUint(val)
			if !ok {
				return tracker.ErrBadDownloaded
			}
			q.req.Downloaded = n
		case "left":
			n, ok := parseUint(val)
			if !ok {
				return tracker.ErrBadLeft
			}
			q.req.Left = n
			haveLeft = true
		case "event":
			ev, ok := parseEvent(val)
			if !ok {
				return tracker.ErrBadEvent
			}
			q.req.Event = ev
		case "numwant":
			n, ok := parseInt(val)
			if !ok {
				return tracker.ErrBadNumWant
			}
			q.req.NumWant = int(max(min(n, 1<<20), -1))
		case "compact":
			switch string(val) {
			case "0":
				q.compact = false
			case "1":
				q.compact = true
			default:
				return tracker.ErrBadCompact
			}
		case "key":
			q.req.Key = parseKey(val)
		case "no_peer_id":
			q.noPeerID = len(val) > 0 && val[0] != '0'
		case "ip", "ipv4", "ipv6":
			if !trusted {
				continue
			}
			a, err := netip.ParseAddr(string(val))
			if err != nil {
				return tracker.ErrBadIP
			}
			// An explicit ipv4 or ipv6 wins over ip.
			if !q.ip.IsValid() || k[len(k)-1] != 'p' {
				q.ip = a.Unmap()
			}
		}
	}
	switch {
	case !haveHash:
		return tracker.ErrMissingInfoHash
	case !havePeer:
		return tracker.ErrMissingPeerID
	case !havePort:
		return tracker.ErrMissingPort
	case !haveLeft:
		// BEP 3 makes left required (unlike ip and event): it is what
		// tells a seeder from a leecher, which the tracker must not guess.
		return tracker.ErrMissingLeft
	}
	q.req.WantPeerIDs = !q.compact && !q.noPeerID
	return nil
}

func parseEvent(v []byte) (tracker.Event, bool) {
	switch string(v) {
	case "":
		return tracker.EventNone, true
	case "started":
		return tracker.EventStarted, true
	case "completed":
		return tracker.EventCompleted, true
	case "stopped":
		return tracker.EventStopped, true
	case "paused":
		return tracker.EventPaused, true
	}
	return 0, false
}
