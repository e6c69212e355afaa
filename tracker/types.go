// Package tracker holds the swarm policy of the BitTorrent tracker: which
// peers an announcing client receives, how often it should come back, and
// which torrents it may announce at all. Frontends (HTTP, UDP) turn requests
// into the plain values defined here; a Store keeps the swarms.
package tracker

import (
	"encoding/hex"
	"fmt"
	"net/netip"
)

// InfoHash is the SHA-1 of a torrent's info dictionary (BEP 3).
type InfoHash [20]byte

// String returns the info hash in lower-case hex.
func (h InfoHash) String() string { return hex.EncodeToString(h[:]) }

// ParseInfoHash parses a 40-character hex info hash.
func ParseInfoHash(s string) (InfoHash, error) {
	var h InfoHash
	if len(s) != 40 {
		return h, fmt.Errorf("info hash %q: want 40 hex characters, got %d", s, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("info hash %q: %w", s, err)
	}
	return h, nil
}

// PeerID is the 20-byte identifier a client picks for itself (BEP 3).
type PeerID [20]byte

// Event is the event field of an announce (BEP 3; "paused" is BEP 21).
type Event uint8

// Announce events.
const (
	EventNone Event = iota
	EventStarted
	EventCompleted
	EventStopped
	EventPaused
)

// String returns the event as it is spelled on the wire.
func (e Event) String() string {
	switch e {
	case EventStarted:
		return "started"
	case EventCompleted:
		return "completed"
	case EventStopped:
		return "stopped"
	case EventPaused:
		return "paused"
	}
	return ""
}

// AnnounceRequest is one announce, already parsed and validated by a
// frontend. Addr is the address other peers should dial.
type AnnounceRequest struct {
	InfoHash   InfoHash
	PeerID     PeerID
	Addr       netip.AddrPort
	Event      Event
	Uploaded   int64
	Downloaded int64
	Left       int64
	// Key is the announce's key (the HTTP key parameter, see ParseKey,
	// or the UDP key field); 0 when the client sent none.
	Key uint32
	// NumWant is how many peers the client asked for; negative means it
	// did not say.
	NumWant int
	// WantPeerIDs asks for the peer IDs of returned peers (the
	// non-compact response form without no_peer_id).
	WantPeerIDs bool
}

// AnnounceResponse is the tracker's answer to one announce. Frontends keep
// and reuse it across requests, so stores append into Swarm.Peers and
// Swarm.PeerIDs rather than allocating.
type AnnounceResponse struct {
	// Interval is how long the client should wait before announcing again,
	// with jitter applied; MinInterval is the shortest wait allowed.
	IntervalSeconds    int
	MinIntervalSeconds int
	Swarm              SwarmAnswer
}

// Reset empties the response for reuse, keeping its buffers.
func (r *AnnounceResponse) Reset() {
	r.IntervalSeconds, r.MinIntervalSeconds = 0, 0
	r.Swarm.Reset()
}

// SwarmAnswer is what a Store returns for one announce: the swarm's counts
// and a random sample of peers in the announcer's address family.
type SwarmAnswer struct {
	Seeders    int
	Leechers   int
	Downloaded int
	// Finished says this announce counted one more download.
	Finished bool
	// Peers holds compact peer entries (BEP 23, BEP 7): 6 bytes each
	// (IPv4 address and port) for an IPv4 announcer, 18 bytes each (IPv6
	// address and port) for an IPv6 announcer.
	Peers []byte
	// PeerIDs holds 20 bytes per entry of Peers, in the same order, and is
	// filled only when the announce asked for peer IDs.
	PeerIDs []byte
}

// Reset empties the answer for reuse, keeping its buffers.
func (a *SwarmAnswer) Reset() {
	a.Seeders, a.Leechers, a.Downloaded, a.Finished = 0, 0, 0, false
	a.Peers = a.Peers[:0]
	a.PeerIDs = a.PeerIDs[:0]
}

// ScrapeStats are the counts a scrape reports for one torrent (BEP 48).
type ScrapeStats struct {
	Seeders    int
	Leechers   int
	Downloaded int
}

// CompactSize returns the size of one compact peer entry for an address:
// 6 for IPv4, 18 for IPv6.
func CompactSize(a netip.Addr) int {
	if a.Is4() {
		return 6
	}
	return 18
}
