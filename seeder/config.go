package seeder

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/seeder/dhtnode"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// Config tunes a Seeder. The zero value works: every field has a default.
type Config struct {
	// PeerID is ours on the wire; zero means a fresh random one.
	PeerID [20]byte
	// Trackers are the tracker tiers announced to for a torrent whose
	// .torrent names none.
	Trackers [][]string
	// AnnounceIP, when valid, is the address trackers are told to hand
	// out for us (the public address behind NAT or a load balancer).
	AnnounceIP netip.Addr
	// AnnouncePort, when not 0, is the port trackers are told instead of
	// the listening port.
	AnnouncePort uint16
	// Clients maps tracker URL schemes to announce clients; nil means
	// HTTP, HTTPS and UDP (BEP 15).
	Clients map[string]announcer.Client
	// AnnounceFamilies are the address families announced over, one loop
	// each (BEP 7), so that trackers learn every address peers can reach
	// us at; empty means those the listener accepts: both for a
	// dual-stack listener (the unspecified IPv6 address, as ":6881"
	// gives), else the listener's own.
	AnnounceFamilies []announcer.Family
	// AnnounceMinBackoff and AnnounceMaxBackoff bound the retry wait after
	// every tracker failed (announcer defaults when 0).
	AnnounceMinBackoff, AnnounceMaxBackoff time.Duration

	// UploadSlots is how many interested peers are unchoked at once,
	// besides one optimistic slot (DefaultUploadSlots when 0).
	UploadSlots int
	// RechokeInterval is how often slots rotate (10 s when 0).
	RechokeInterval time.Duration
	// UploadRate limits the upload of all torrents together, in bytes per
	// second; 0 means no limit.
	UploadRate int64
	// Offload reveals pieces to leechers a few at a time, by package
	// offload's policy, instead of announcing every piece: distinct
	// leechers get distinct pieces and trade the rest, so about one copy
	// of a torrent leaves the origin however many peers download it.
	Offload bool

	// MaxConns bounds peer connections in total, MaxConnsPerTorrent per
	// torrent, MaxDialsPerTorrent the connections we open per torrent.
	// When MaxConns is reached, a newcomer takes the place of the oldest
	// connection still in its handshake; it is refused only when every
	// connection is past its handshake.
	MaxConns, MaxConnsPerTorrent, MaxDialsPerTorrent int
	// MaxConnsPerIP bounds the incoming connections from one source (an
	// IPv4 address or an IPv6 /64), handshakes included
	// (DefaultMaxConnsPerIP when 0). At the limit a newcomer takes the
	// place of that source's oldest handshake, or is refused.
	MaxConnsPerIP int
	// ConnLimitExempt lists the addresses MaxConnsPerIP does not apply to:
	// a proxy that connects for many clients, or test clients on
	// loopback. nil means DefaultConnLimitExempt (loopback); an empty,
	// non-nil list exempts nothing.
	ConnLimitExempt []netip.Prefix

	// HandshakeTimeout bounds the handshake, IdleTimeout the silence of a
	// peer, WriteTimeout one write to a peer that does not read.
	HandshakeTimeout, IdleTimeout, WriteTimeout time.Duration
	// KeepAlive is how long our side of a connection may stay silent
	// before a keep-alive is sent.
	KeepAlive time.Duration

	// MaxRequest is the largest block a peer may request
	// (DefaultMaxRequest when 0, never above MaxRequestLimit).
	MaxRequest int
	// ReqQ is how many requests a peer may have queued; advertised as
	// reqq (BEP 10).
	ReqQ int
	// MaxBadRequests is how many bad requests (out of range, too long,
	// over reqq, for a piece we lack) a peer may send before it is
	// disconnected.
	MaxBadRequests int

	// Encryption is the policy for encrypted (MSE/PE) peers: prefer, the
	// zero value, accepts both kinds; see peer.Encryption.
	Encryption peer.Encryption

	// Metrics, when set, counts requests, disk reads, announces and
	// connections.
	Metrics *Metrics

	// Registrar, when set, registers every torrent with the trackers'
	// admin API before its first announce (a tracker in allow-list mode
	// refuses announces for unknown torrents), retrying until it succeeds,
	// and unregisters it when Remove withdraws it. Shutdown leaves the
	// torrents registered, so a restart does not make them vanish.
	Registrar *announcer.Registrar

	// DHT, when set, is our DHT node (BEP 5), started and closed by the
	// caller: see dht.go.
	DHT *dhtnode.Node

	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultUploadSlots        = 16
	DefaultMaxConns           = 500
	DefaultMaxConnsPerTorrent = 200
	DefaultMaxDialsPerTorrent = 50
	// DefaultMaxConnsPerIP lets one host download 32 torrents at once
	// (clients keep one connection per torrent with a peer) while holding
	// at most 32 of the DefaultMaxConns slots.
	DefaultMaxConnsPerIP    = 32
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 3 * time.Minute
	DefaultWriteTimeout     = 60 * time.Second
	DefaultKeepAlive        = 90 * time.Second
	DefaultMaxRequest       = 16 << 10
	DefaultReqQ             = 1000
	DefaultMaxBadRequests   = 100
	DefaultRechokeInterval  = 10 * time.Second
	// MaxRequestLimit is the most MaxRequest may be: no client asks more.
	MaxRequestLimit = 128 << 10
)

// DefaultConnLimitExempt is loopback, IPv4 and IPv6. No host elsewhere can
// connect from it (the kernel drops such packets arriving on any other
// interface), so exempting it lets nobody past the limit but local
// processes: a proxy on the same machine, which connects for all its
// clients, and the real clients of tests, which all share 127.0.0.1.
var DefaultConnLimitExempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.UploadSlots, DefaultUploadSlots)
	def(&c.MaxConns, DefaultMaxConns)
	def(&c.MaxConnsPerTorrent, DefaultMaxConnsPerTorrent)
	def(&c.MaxDialsPerTorrent, DefaultMaxDialsPerTorrent)
	def(&c.MaxConnsPerIP, DefaultMaxConnsPerIP)
	if c.ConnLimitExempt == nil {
		c.ConnLimitExempt = DefaultConnLimitExempt
	}
	def(&c.MaxRequest, DefaultMaxRequest)
	def(&c.ReqQ, DefaultReqQ)
	def(&c.MaxBadRequests, DefaultMaxBadRequests)
	defDur(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	defDur(&c.IdleTimeout, DefaultIdleTimeout)
	defDur(&c.WriteTimeout, DefaultWriteTimeout)
	defDur(&c.KeepAlive, DefaultKeepAlive)
	defDur(&c.RechokeInterval, DefaultRechokeInterval)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	// Zero means the default (withDefaults ran): only a negative value is
	// wrong.
	notNegative := func(name string, v int) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s %d: must not be negative", name, v))
		}
	}
	notNegative("upload slots", c.UploadSlots)
	notNegative("max conns", c.MaxConns)
	notNegative("max conns per torrent", c.MaxConnsPerTorrent)
	notNegative("max dials per torrent", c.MaxDialsPerTorrent)
	notNegative("max conns per IP", c.MaxConnsPerIP)
	notNegative("reqq", c.ReqQ)
	notNegative("max bad requests", c.MaxBadRequests)
	if c.UploadRate < 0 {
		errs = append(errs, fmt.Errorf("upload rate %d: must not be negative", c.UploadRate))
	}
	if c.MaxRequest < 1<<10 || c.MaxRequest > MaxRequestLimit {
		errs = append(errs, fmt.Errorf("max request %d: must be between 1 KiB and %d", c.MaxRequest, MaxRequestLimit))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"handshake timeout", c.HandshakeTimeout}, {"idle timeout", c.IdleTimeout},
		{"write timeout", c.WriteTimeout}, {"keep-alive", c.KeepAlive}, {"rechoke interval", c.RechokeInterval},
	} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("%s %s: must not be negative", d.name, d.d))
		}
	}
	if c.Encryption < peer.EncryptionPrefer || c.Encryption > peer.EncryptionOff {
		errs = append(errs, fmt.Errorf("encryption %s: want prefer, require or off", c.Encryption))
	}
	if c.KeepAlive >= c.IdleTimeout {
		errs = append(errs, fmt.Errorf("keep-alive %s: must be shorter than the idle timeout %s", c.KeepAlive, c.IdleTimeout))
	}
	return errors.Join(errs...)
}
