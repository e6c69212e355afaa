package trackerload

import (
	"fmt"

	"github.com/bitorigin/bitorigin/udpwire"
)

// The BEP 15 packets go through udpwire, the codec the UDP tracker uses;
// these helpers map a query onto them.

// udpEvent is the BEP 15 code of an announce's event.
var udpEvent = [numActions]udpwire.Event{
	ActionNone:      udpwire.EventNone,
	ActionCompleted: udpwire.EventCompleted,
	ActionStarted:   udpwire.EventStarted,
	ActionStopped:   udpwire.EventStopped,
}

func appendUDPAnnounce(b []byte, connID uint64, tid uint32, q *query, numWant int) []byte {
	if q.action == ActionStopped {
		numWant = 0
	}
	return udpwire.AppendAnnounceRequest(b, &udpwire.AnnounceRequest{
		ConnectionID:  connID,
		TransactionID: tid,
		InfoHash:      q.t.hash,
		PeerID:        q.p.id,
		Downloaded:    q.down,
		Left:          q.left,
		Uploaded:      q.up,
		Event:         udpEvent[q.action],
		Key:           q.p.key,
		NumWant:       int32(numWant),
		Port:          q.p.port,
	})
}

// parseUDPAnswer fills a from the answer to a request of action want
// whose transaction ID matched. peerSize is 6 for an IPv4 tracker, 18 for
// IPv6; stats is scratch space for a scrape's counts.
func parseUDPAnswer(b []byte, want udpwire.Action, peerSize int, stats []udpwire.ScrapeStats, a *answer) ([]udpwire.ScrapeStats, error) {
	action, _, err := udpwire.ResponseAction(b)
	if err != nil {
		return stats, fmt.Errorf("%w: %w", errMalformed, err)
	}
	switch {
	case action == udpwire.ActionError:
		_, msg, err := udpwire.ParseError(b)
		if err != nil {
			return stats, fmt.Errorf("%w: %w", errMalformed, err)
		}
		a.failure = true
		a.reason = append(a.reason[:0], msg...)
	case action != want:
		return stats, fmt.Errorf("%w: action %d in answer to action %d", errMalformed, action, want)
	case want == udpwire.ActionAnnounce:
		var r udpwire.AnnounceResponse
		if err := udpwire.ParseAnnounceResponse(b, peerSize, &r); err != nil {
			return stats, fmt.Errorf("%w: %w", errMalformed, err)
		}
		a.interval = int(min(r.Interval, 1<<31-1))
		a.peers = len(r.Peers) / peerSize
	case want == udpwire.ActionScrape:
		_, stats, err = udpwire.ParseScrapeResponse(b, stats[:0])
		if err != nil {
			return stats, fmt.Errorf("%w: %w", errMalformed, err)
		}
		if len(stats) != 1 {
			return stats, fmt.Errorf("%w: %d counts in the answer to a scrape of one torrent", errMalformed, len(stats))
		}
	}
	return stats, nil
}
