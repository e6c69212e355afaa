package swarmload

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bitorigin/bitorigin/metainfo"
)

// Config is one swarm run. The zero value of a field means its default.
type Config struct {
	// Torrent is the torrent to download. When nil, Magnet names it and
	// the info dictionary is fetched from the seeder.
	Torrent *metainfo.Torrent
	Magnet  *metainfo.Magnet
	// Seeder is the seeder's HOST:PORT; empty means ask the torrent's HTTP
	// trackers and use the first peer that has every piece.
	Seeder string
	// Leechers is how many leechers download at once (default 10).
	Leechers int
	// BlockSize is the size of each request (default 16 KiB, at most
	// 128 KiB); Pipeline how many requests each leecher keeps in flight
	// (default 64, lowered to the seeder's reqq).
	BlockSize int
	Pipeline  int
	// Timeout bounds the whole run (default 5m); IdleTimeout a seeder's
	// silence towards one leecher (default 30s), DialTimeout connecting
	// and the handshake (default 10s).
	Timeout, IdleTimeout, DialTimeout time.Duration
	// Trade makes the leechers trade, as real clients do: each also
	// listens on a loopback port, connects to PeersPerLeecher others at
	// most (default 8), asks whichever peer has a piece for it, the seeder
	// included, and serves the pieces it verified to the others, at most
	// LeecherUploadRate bytes per second (0: no cap). PeerPipeline is how
	// many requests a leecher keeps in flight to each other leecher
	// (default 16); Pipeline stays the seeder's.
	Trade             bool
	PeersPerLeecher   int
	LeecherUploadRate int64
	PeerPipeline      int
	// Progress, when not nil, gets a status line redrawn every second:
	// pass a terminal, or nil.
	Progress io.Writer
}

// Limits of Config.
const (
	maxLeechers = 10000
	maxBlock    = 128 << 10
	maxPipeline = 10000
	// maxPeers bounds PeersPerLeecher, maxPeerPipeline PeerPipeline: a
	// trading leecher queues at most that many requests of each peer.
	maxPeers        = 200
	maxPeerPipeline = 256
)

func (c Config) withDefaults() Config {
	if c.Leechers == 0 {
		c.Leechers = 10
	}
	if c.BlockSize == 0 {
		c.BlockSize = 16 << 10
	}
	if c.Pipeline == 0 {
		c.Pipeline = 64
	}
	if c.PeersPerLeecher == 0 {
		c.PeersPerLeecher = 8
	}
	if c.PeerPipeline == 0 {
		c.PeerPipeline = 16
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 30 * time.Second
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 10 * time.Second
	}
	return c
}

// Validate reports every setting that cannot work, joined.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Torrent == nil && c.Magnet == nil {
		bad("no torrent: give a .torrent file or a magnet link")
	}
	if c.Torrent == nil && c.Magnet != nil && c.Seeder == "" && len(c.Magnet.Trackers) == 0 {
		bad("magnet link %s has no tracker: give the seeder's address", c.Magnet.InfoHash)
	}
	if c.Leechers < 1 || c.Leechers > maxLeechers {
		bad("leechers %d: want 1 to %d", c.Leechers, maxLeechers)
	}
	if c.BlockSize < 1<<10 || c.BlockSize > maxBlock {
		bad("block size %d: want 1 KiB to 128 KiB", c.BlockSize)
	}
	if c.Pipeline < 1 || c.Pipeline > maxPipeline {
		bad("pipeline %d: want 1 to %d", c.Pipeline, maxPipeline)
	}
	if c.PeersPerLeecher < 1 || c.PeersPerLeecher > maxPeers {
		bad("peers per leecher %d: want 1 to %d", c.PeersPerLeecher, maxPeers)
	}
	if c.PeerPipeline < 1 || c.PeerPipeline > maxPeerPipeline {
		bad("peer pipeline %d: want 1 to %d", c.PeerPipeline, maxPeerPipeline)
	}
	if c.LeecherUploadRate < 0 {
		bad("leecher upload rate %d: must not be negative", c.LeecherUploadRate)
	}
	if c.Timeout < 0 || c.IdleTimeout < 0 || c.DialTimeout < 0 {
		bad("time-outs must not be negative")
	}
	return errors.Join(errs...)
}
