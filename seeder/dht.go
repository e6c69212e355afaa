package seeder

import (
	"net/netip"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
)

// The seeder's part in the DHT (BEP 5), when Config.DHT is set: each
// public torrent is announced on the node, under each of its info hashes
// (a hybrid's v1 and v2 ones), while it is served, from the start of its
// announce loop to Remove, and answers to get_peers for it carry our
// address; the peers the node finds for it are dialled like those a
// tracker returns. Our handshake sets the DHT bit, and a peer that sets
// it too learns our node's port from a port message, right after our
// pieces; its own port message has our node ping its node. Private
// torrents (BEP 27) stay off the DHT. The connection's part is in
// seeder/peer (sendPort, onPort).

// dhtAnnounce has the DHT node announce sw with our peer port.
func (s *Seeder) dhtAnnounce(sw *seeded) {
	if s.cfg.DHT != nil && !sw.Meta.Info.Private {
		for _, h := range sw.InfoHashes() {
			s.cfg.DHT.Announce(h, s.listenPort())
		}
	}
}

// dhtWithdraw stops the DHT node announcing sw.
func (s *Seeder) dhtWithdraw(sw *seeded) {
	if s.cfg.DHT != nil {
		for _, h := range sw.InfoHashes() {
			s.cfg.DHT.Withdraw(h)
		}
	}
}

// dhtWatch has the peers the DHT node finds for our torrents dialled.
func (s *Seeder) dhtWatch() {
	s.cfg.DHT.OnPeers(s.dhtPeers)
}

// dhtDialWait is how long a peer the DHT node found is left to dial us
// before we dial it: most found us on the DHT themselves (they announce
// to our node right after its answer named us) and are about to connect,
// and a second connection between the same two peers is dropped by one
// side or the other. One that connects is not dialled.
const dhtDialWait = 5 * time.Second

// dhtPeers records peers the DHT node found under info hash h, to be
// dialled with h.
func (s *Seeder) dhtPeers(h metainfo.InfoHash, peers []netip.AddrPort) {
	sw := s.lookup(h)
	if sw == nil || sw.Meta.Info.Private {
		return
	}
	s.addCandidatesAfter(sw, h, peers, dhtDialWait)
}
