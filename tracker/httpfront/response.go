package httpfront

import (
	"net/netip"

	"github.com/bitorigin/bitorigin/bencode"
	"github.com/bitorigin/bitorigin/tracker"
)

// The responses are appended to a caller's buffer with package bencode, so
// that a response is built without allocating. Dictionary keys are written
// in sorted order, as bencode requires.

// The keys of announce and scrape answers, encoded once.
var (
	keyComplete    = bencode.NewKey("complete")
	keyDownloaded  = bencode.NewKey("downloaded")
	keyIncomplete  = bencode.NewKey("incomplete")
	keyInterval    = bencode.NewKey("interval")
	keyMinInterval = bencode.NewKey("min interval")
	keyPeers       = bencode.NewKey("peers")
	keyPeers6      = bencode.NewKey("peers6")
	keyIP          = bencode.NewKey("ip")
	keyPeerID      = bencode.NewKey("peer id")
	keyPort        = bencode.NewKey("port")
	keyFiles       = bencode.NewKey("files")
)

// appendFailure writes the response for an error the client should see.
func appendFailure(b []byte, reason string) []byte {
	b = bencode.AppendDict(b)
	b = bencode.AppendString(bencode.AppendString(b, "failure reason"), reason)
	return bencode.AppendEnd(b)
}

// appendAnnounce writes an announce response. An IPv6 announcer's compact
// peers go in peers6 (BEP 7), with an empty peers beside it for clients that
// require the key.
func appendAnnounce(b []byte, r *tracker.AnnounceResponse, compact, v6, peerIDs bool) []byte {
	sw := &r.Swarm
	b = bencode.AppendDict(b)
	b = bencode.AppendInt(bencode.AppendKey(b, keyComplete), int64(sw.Seeders))
	b = bencode.AppendInt(bencode.AppendKey(b, keyDownloaded), int64(sw.Downloaded))
	b = bencode.AppendInt(bencode.AppendKey(b, keyIncomplete), int64(sw.Leechers))
	b = bencode.AppendInt(bencode.AppendKey(b, keyInterval), int64(r.IntervalSeconds))
	b = bencode.AppendInt(bencode.AppendKey(b, keyMinInterval), int64(r.MinIntervalSeconds))
	b = bencode.AppendKey(b, keyPeers)
	switch {
	case !compact:
		b = appendPeerDicts(b, sw, v6, peerIDs)
	case v6:
		b = bencode.AppendString(b, "")
		b = bencode.AppendBytes(bencode.AppendKey(b, keyPeers6), sw.Peers)
	default:
		b = bencode.AppendBytes(b, sw.Peers)
	}
	return bencode.AppendEnd(b)
}

// appendPeerDicts writes the original list-of-dictionaries peer form (BEP 3).
func appendPeerDicts(b []byte, sw *tracker.SwarmAnswer, v6, peerIDs bool) []byte {
	size := 6
	if v6 {
		size = 18
	}
	b = bencode.AppendList(b)
	for i := 0; (i+1)*size <= len(sw.Peers); i++ {
		e := sw.Peers[i*size : (i+1)*size]
		var a netip.Addr
		if v6 {
			a = netip.AddrFrom16([16]byte(e[:16]))
		} else {
			a = netip.AddrFrom4([4]byte(e[:4]))
		}
		port := int64(e[size-2])<<8 | int64(e[size-1])
		b = bencode.AppendDict(b)
		var ip [64]byte
		b = bencode.AppendBytes(bencode.AppendKey(b, keyIP), a.AppendTo(ip[:0]))
		if peerIDs && len(sw.PeerIDs) >= (i+1)*20 {
			b = bencode.AppendBytes(bencode.AppendKey(b, keyPeerID), sw.PeerIDs[i*20:(i+1)*20])
		}
		b = bencode.AppendInt(bencode.AppendKey(b, keyPort), port)
		b = bencode.AppendEnd(b)
	}
	return bencode.AppendEnd(b)
}

// appendScrape writes a scrape response (BEP 48). hashes must be sorted and
// unique, as bencode dictionary keys are.
func appendScrape(b []byte, hashes []tracker.InfoHash, stats []tracker.ScrapeStats) []byte {
	b = appendScrapeStart(b)
	for i := range hashes {
		b = appendScrapeFile(b, hashes[i], stats[i])
	}
	return appendScrapeEnd(b)
}

// appendScrapeStart opens a scrape response and its files dictionary.
func appendScrapeStart(b []byte) []byte {
	return bencode.AppendDict(bencode.AppendKey(bencode.AppendDict(b), keyFiles))
}

// appendScrapeFile writes one torrent's entry of a scrape response's files
// dictionary.
func appendScrapeFile(b []byte, h tracker.InfoHash, s tracker.ScrapeStats) []byte {
	b = bencode.AppendBytes(b, h[:])
	b = bencode.AppendDict(b)
	b = bencode.AppendInt(bencode.AppendKey(b, keyComplete), int64(s.Seeders))
	b = bencode.AppendInt(bencode.AppendKey(b, keyDownloaded), int64(s.Downloaded))
	b = bencode.AppendInt(bencode.AppendKey(b, keyIncomplete), int64(s.Leechers))
	return bencode.AppendEnd(b)
}

// appendScrapeEnd closes the files dictionary and the response.
func appendScrapeEnd(b []byte) []byte {
	return bencode.AppendEnd(bencode.AppendEnd(b))
}
