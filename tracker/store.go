package tracker

import (
	"context"
	"net/netip"
)

// Store keeps the swarms. Its methods are shaped around the unit of work: one
// Announce call applies an announce and returns the swarm's answer, so the
// in-memory store does it under one lock and a networked store in one round
// trip. Implementations must be safe for concurrent use.
//
// Rules every Store follows (the storetest package checks them):
//   - a stopped peer is removed and gets no peers back;
//   - a peer with Seeder set is counted as a seeder, otherwise as a leecher,
//     and moves between the two when that changes;
//   - a download is counted once per peer that finishes: on Completed, and
//     when a peer known as a leecher announces Seeder without Completed
//     (aria2c, for one, goes straight to stopped with left=0); but never
//     again for a peer that has seeded or finished in the swarm since it
//     arrived, until it stops or expires: a seeder that reports something
//     left and later nothing (an origin that lost a piece on disk and
//     healed it) is recovering, not downloading;
//   - the sample never contains the announcing peer, holds only peers of
//     the announcer's address family, holds only leechers when the announcer
//     is a seeder, and holds at most NumWant distinct peers;
//   - a peer that announces over IPv4 and over IPv6 with the same peer ID
//     and the same non-zero Key is one peer: it counts once (as a seeder
//     when either family says it has nothing left), finishes once, and
//     each family's entry is still returned to that family's announcers,
//     removed by that family's stopped and expires by itself. Without a
//     key, or with another key, the two are two peers;
//   - a peer not seen for longer than the store's peer lifetime is no longer
//     returned or counted after at most twice that lifetime.
type Store interface {
	// Announce applies a and appends the swarm's answer to out, which the
	// caller has Reset.
	Announce(ctx context.Context, a PeerAnnounce, out *SwarmAnswer) error
	// Scrape fills out[i] with the counts of hashes[i]; unknown torrents
	// get zero counts. len(out) must equal len(hashes).
	Scrape(ctx context.Context, hashes []InfoHash, out []ScrapeStats) error
	// FullScrape calls fn for up to max torrents the store knows.
	FullScrape(ctx context.Context, max int, fn func(InfoHash, ScrapeStats)) error
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	// Close releases the store's resources and stops its goroutines.
	Close() error
}

// PeerAnnounce is what a Store needs of one announce.
type PeerAnnounce struct {
	InfoHash InfoHash
	PeerID   PeerID
	// Addr identifies the peer together with PeerID: a client that
	// reuses another's peer ID from elsewhere cannot remove or replace it.
	Addr netip.AddrPort
	// Key is the client's key (0: none). With the peer ID it ties the
	// client's IPv4 and IPv6 entries into one peer; it never identifies a
	// peer within one family, where the address does.
	Key         uint32
	Event       Event
	Seeder      bool
	NumWant     int
	WantPeerIDs bool
}

// Totals are a store's swarm totals, for the tracker's gauges: torrents
// with at least one peer, and peers by role and address family, each peer
// once: Seeders4 and Leechers4 are peers known only over IPv4, Seeders6
// and Leechers6 only over IPv6, and SeedersBoth and LeechersBoth the
// dual-stack ones (see Store), by their merged role. Peers that have
// stopped announcing count until the store drops them.
type Totals struct {
	Torrents                                 int
	Seeders4, Leechers4, Seeders6, Leechers6 int
	SeedersBoth, LeechersBoth                int
}

// PeersHelp is the help of the tracker's peers gauge, which every store
// exports from its Totals.
const PeersHelp = "Peers in all swarms, each once, by role (seeder, leecher) and address family: ipv4 or ipv6 for a peer known over one family, both for a dual-stack peer (the same peer ID and key over each)."

// PeerSeries is one series of the peers gauge.
type PeerSeries struct {
	Role, Family string
	N            int
}

// Series lists the peers gauge's series of t.
func (t Totals) Series() []PeerSeries {
	return []PeerSeries{
		{"seeder", "ipv4", t.Seeders4}, {"leecher", "ipv4", t.Leechers4},
		{"seeder", "ipv6", t.Seeders6}, {"leecher", "ipv6", t.Leechers6},
		{"seeder", "both", t.SeedersBoth}, {"leecher", "both", t.LeechersBoth},
	}
}
