package trackerload

import (
	"encoding/binary"
	"fmt"
)

// BEP 15 packets, the few this generator sends and reads. (The UDP
// tracker's own codec is being written in parallel; this stays small and
// can give way to it.)

const (
	udpProtocolID = 0x41727101980 // the magic of a connect request

	udpConnect  = 0
	udpAnnounce = 1
	udpScrape   = 2
	udpError    = 3

	udpConnectLen  = 16
	udpAnnounceLen = 98
	udpHeaderLen   = 8  // action and transaction ID of every answer
	udpAnnounceHdr = 20 // action, transaction ID, interval, leechers, seeders
)

// udpEvent is the BEP 15 code of an announce's event.
var udpEvent = [numActions]uint32{ActionNone: 0, ActionCompleted: 1, ActionStarted: 2, ActionStopped: 3}

func appendUDPConnect(b []byte, tid uint32) []byte {
	b = binary.BigEndian.AppendUint64(b, udpProtocolID)
	b = binary.BigEndian.AppendUint32(b, udpConnect)
	return binary.BigEndian.AppendUint32(b, tid)
}

func appendUDPAnnounce(b []byte, connID uint64, tid uint32, q *query, numWant int) []byte {
	p := q.p
	b = binary.BigEndian.AppendUint64(b, connID)
	b = binary.BigEndian.AppendUint32(b, udpAnnounce)
	b = binary.BigEndian.AppendUint32(b, tid)
	b = append(b, q.t.hash[:]...)
	b = append(b, p.id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(q.down))
	b = binary.BigEndian.AppendUint64(b, uint64(q.left))
	b = binary.BigEndian.AppendUint64(b, uint64(q.up))
	b = binary.BigEndian.AppendUint32(b, udpEvent[q.action])
	b = binary.BigEndian.AppendUint32(b, 0) // IP: the sender's
	b = binary.BigEndian.AppendUint32(b, p.key)
	if q.action == ActionStopped {
		numWant = 0
	}
	b = binary.BigEndian.AppendUint32(b, uint32(int32(numWant)))
	return binary.BigEndian.AppendUint16(b, p.port)
}

func appendUDPScrape(b []byte, connID uint64, tid uint32, hash *[20]byte) []byte {
	b = binary.BigEndian.AppendUint64(b, connID)
	b = binary.BigEndian.AppendUint32(b, udpScrape)
	b = binary.BigEndian.AppendUint32(b, tid)
	return append(b, hash[:]...)
}

// udpHeader returns an answer's action and transaction ID.
func udpHeader(b []byte) (action, tid uint32, ok bool) {
	if len(b) < udpHeaderLen {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]), true
}

// parseUDPAnswer fills a from an answer to a request of the given action
// whose header matched. peerSize is 6 for an IPv4 tracker, 18 for IPv6.
func parseUDPAnswer(b []byte, want uint32, peerSize int, a *answer) error {
	action, _, _ := udpHeader(b)
	switch {
	case action == udpError:
		a.failure = true
		a.reason = append(a.reason[:0], b[udpHeaderLen:]...)
		return nil
	case action != want:
		return fmt.Errorf("%w: action %d in answer to action %d", errMalformed, action, want)
	case want == udpAnnounce:
		if len(b) < udpAnnounceHdr || (len(b)-udpAnnounceHdr)%peerSize != 0 {
			return fmt.Errorf("%w: announce answer of %d bytes", errMalformed, len(b))
		}
		a.interval = int(min(binary.BigEndian.Uint32(b[8:]), 1<<31-1))
		a.peers = (len(b) - udpAnnounceHdr) / peerSize
	case want == udpScrape:
		if len(b) != udpHeaderLen+12 {
			return fmt.Errorf("%w: scrape answer of %d bytes for one info hash", errMalformed, len(b))
		}
	}
	return nil
}
