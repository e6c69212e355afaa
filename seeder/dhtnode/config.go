package dhtnode

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config sets up a Node. Only Addr (or Conn) is needed; everything else
// has a default that keeps the node silent until someone queries it.
type Config struct {
	// Addr is the UDP address to listen on, host:port.
	Addr string
	// Conn, when set, is used instead of listening on Addr; the Node
	// closes it.
	Conn net.PacketConn
	// Bootstrap are the host:port of the nodes contacted to join the DHT,
	// resolved each time the node bootstraps. Empty (the default) contacts
	// nobody: the node joins only through nodes that query it, and the
	// nodes its state file remembers.
	Bootstrap []string
	// StateFile keeps the node ID and routing table across restarts:
	// written on Close and every SaveInterval, read by Start. Empty means
	// none.
	StateFile string
	// PeerIP is the address peers reach the seeder at, given with the
	// seeder's port in answers to get_peers for the torrents Announce was
	// called for. When invalid, the address the node listens on; when
	// that is a wildcard address, each querier of another family than
	// PeerIP's, or every querier when PeerIP is invalid, gets the local
	// address our reply leaves from, unless the querier is public and
	// that address is not (NAT): see self.go.
	PeerIP netip.Addr
	// OnlyPeerIP keeps answers to PeerIP alone, for a seeder that accepts
	// peers at that address only: queriers of the other family are not
	// given the address they see the node at.
	OnlyPeerIP bool
	// Rate bounds the packets the node sends per second, queries and
	// replies together (DefaultRate when 0). A reply over it is dropped;
	// our own queries wait.
	Rate float64
	// PerIPRate bounds the queries answered per second from one IP
	// address, with bursts of four times that (DefaultPerIPRate when 0);
	// queries over it are dropped unanswered, so a node cannot be used to
	// flood a spoofed source with replies.
	PerIPRate float64
	// AnnounceInterval is how often each torrent is announced again
	// (DefaultAnnounceInterval when 0); BEP 5 nodes forget peers that do
	// not announce for about half an hour.
	AnnounceInterval time.Duration
	// SaveInterval is how often the state file is written while running
	// (DefaultSaveInterval when 0).
	SaveInterval time.Duration
	// Registerer, when set, gets the node's metrics.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Defaults of Config.
const (
	DefaultRate             = 100
	DefaultPerIPRate        = 5
	DefaultAnnounceInterval = 15 * time.Minute
	DefaultSaveInterval     = 5 * time.Minute
)

func (c Config) withDefaults() Config {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.PerIPRate == 0 {
		c.PerIPRate = DefaultPerIPRate
	}
	if c.AnnounceInterval == 0 {
		c.AnnounceInterval = DefaultAnnounceInterval
	}
	if c.SaveInterval == 0 {
		c.SaveInterval = DefaultSaveInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Conn == nil && c.Addr == "" {
		errs = append(errs, errors.New("dht: no listen address"))
	}
	for _, b := range c.Bootstrap {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" || port == "0" {
			errs = append(errs, fmt.Errorf("dht bootstrap node %q: want host:port", b))
		}
	}
	if c.Rate < 0 || c.PerIPRate < 0 {
		errs = append(errs, fmt.Errorf("dht rate %g, per IP %g: must not be negative", c.Rate, c.PerIPRate))
	}
	if c.AnnounceInterval < time.Minute {
		errs = append(errs, fmt.Errorf("dht announce interval %s: at least a minute", c.AnnounceInterval))
	}
	if c.SaveInterval < 0 {
		errs = append(errs, fmt.Errorf("dht save interval %s: must not be negative", c.SaveInterval))
	}
	return errors.Join(errs...)
}
