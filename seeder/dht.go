package seeder

import "github.com/bitorigin/bitorigin/peerwire"

// The seeder's part in the DHT (BEP 5), when Config.DHT is set: each
// public torrent is announced on the node while it is served, from the
// start of its announce loop to Remove, and answers to get_peers for it
// carry our address; our handshake sets the DHT bit, and a peer that sets
// it too learns our node's port from a port message, right after our
// pieces. Private torrents (BEP 27) stay off the DHT.

// dhtAnnounce has the DHT node announce sw with our peer port.
func (s *Seeder) dhtAnnounce(sw *swarm) {
	if s.cfg.DHT != nil && !sw.Meta.Info.Private {
		s.cfg.DHT.Announce(sw.InfoHash(), s.listenPort())
	}
}

// dhtWithdraw stops the DHT node announcing sw.
func (s *Seeder) dhtWithdraw(sw *swarm) {
	if s.cfg.DHT != nil {
		s.cfg.DHT.Withdraw(sw.InfoHash())
	}
}

// sendPort queues a port message with our DHT node's port for a peer
// that set the DHT bit.
func (c *conn) sendPort() {
	d := c.s.cfg.DHT
	if d == nil || !c.dht || c.sw.Meta.Info.Private {
		return
	}
	c.mu.Lock()
	c.out = peerwire.Port{Port: d.Port()}.AppendTo(c.out)
	c.mu.Unlock()
	c.signal()
}
