package httpfront

import (
	"net/netip"
	"strconv"

	"github.com/bitorigin/bitorigin/tracker"
)

// The bencode writers below append to a caller's buffer so that a response
// is built without allocating. Dictionary keys are written in sorted order,
// as bencode requires.

func appendInt(b []byte, n int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, n, 10)
	return append(b, 'e')
}

func appendBytes(b []byte, s []byte) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// appendFailure writes the response for an error the client should see.
func appendFailure(b []byte, reason string) []byte {
	b = append(b, "d14:failure reason"...)
	b = appendString(b, reason)
	return append(b, 'e')
}

// appendAnnounce writes an announce response. An IPv6 announcer's compact
// peers go in peers6 (BEP 7), with an empty peers beside it for clients that
// require the key.
func appendAnnounce(b []byte, r *tracker.AnnounceResponse, compact, v6, peerIDs bool) []byte {
	sw := &r.Swarm
	b = append(b, "d8:complete"...)
	b = appendInt(b, int64(sw.Seeders))
	b = append(b, "10:downloaded"...)
	b = appendInt(b, int64(sw.Downloaded))
	b = append(b, "10:incomplete"...)
	b = appendInt(b, int64(sw.Leechers))
	b = append(b, "8:interval"...)
	b = appendInt(b, int64(r.IntervalSeconds))
	b = append(b, "12:min interval"...)
	b = appendInt(b, int64(r.MinIntervalSeconds))
	switch {
	case !compact:
		b = append(b, "5:peers"...)
		b = appendPeerDicts(b, sw, v6, peerIDs)
	case v6:
		b = append(b, "5:peers0:6:peers6"...)
		b = appendBytes(b, sw.Peers)
	default:
		b = append(b, "5:peers"...)
		b = appendBytes(b, sw.Peers)
	}
	return append(b, 'e')
}

// appendPeerDicts writes the original list-of-dictionaries peer form (BEP 3).
func appendPeerDicts(b []byte, sw *tracker.SwarmAnswer, v6, peerIDs bool) []byte {
	size := 6
	if v6 {
		size = 18
	}
	b = append(b, 'l')
	for i := 0; (i+1)*size <= len(sw.Peers); i++ {
		e := sw.Peers[i*size : (i+1)*size]
		var a netip.Addr
		if v6 {
			a = netip.AddrFrom16([16]byte(e[:16]))
		} else {
			a = netip.AddrFrom4([4]byte(e[:4]))
		}
		port := int64(e[size-2])<<8 | int64(e[size-1])
		b = append(b, "d2:ip"...)
		var ip [64]byte
		b = appendBytes(b, a.AppendTo(ip[:0]))
		if peerIDs && len(sw.PeerIDs) >= (i+1)*20 {
			b = append(b, "7:peer id"...)
			b = appendBytes(b, sw.PeerIDs[i*20:(i+1)*20])
		}
		b = append(b, "4:port"...)
		b = appendInt(b, port)
		b = append(b, 'e')
	}
	return append(b, 'e')
}

// appendScrape writes a scrape response (BEP 48). hashes must be sorted and
// unique, as bencode dictionary keys are.
func appendScrape(b []byte, hashes []tracker.InfoHash, stats []tracker.ScrapeStats) []byte {
	b = append(b, "d5:filesd"...)
	for i := range hashes {
		b = appendBytes(b, hashes[i][:])
		b = appendStats(b, stats[i])
	}
	return append(b, "ee"...)
}

func appendStats(b []byte, s tracker.ScrapeStats) []byte {
	b = append(b, "d8:complete"...)
	b = appendInt(b, int64(s.Seeders))
	b = append(b, "10:downloaded"...)
	b = appendInt(b, int64(s.Downloaded))
	b = append(b, "10:incomplete"...)
	b = appendInt(b, int64(s.Leechers))
	return append(b, 'e')
}
