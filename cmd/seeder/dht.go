package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/seeder/dhtnode"
)

// dhtOptions are the flags of `seeder serve` for its DHT node.
type dhtOptions struct {
	on          bool
	addr        string
	bootstrap   listFlag
	state       string
	rate, perIP float64
}

const dhtHelp = `
DHT (BEP 5): the seeder runs a DHT node (--dht, on by default; --dht=false
turns it off) on UDP, by default at the --listen address and port. It
announces every public torrent served (announce_peer with the peer port,
again every 15 minutes, under both hashes of a hybrid), and dials the
leechers it finds there or that announce to it. It answers get_peers for
them with the seeder's own address, so a leecher holding only a magnet
link and one route to this node finds the seeder: --announce-ip, else the
host of --listen or --dht-addr; on a wildcard address (:6881, 0.0.0.0,
[::]) each querier (and with --announce-ip, each querier of the other
address family) gets the local address our reply comes from, which is the
address it sees us at, except that a querier on a public address is never
given a private one: behind NAT, set --announce-ip. It tells peers that
set the DHT bit its port (port message), and pings the node a peer's port
message names so that it can join the routing table (each address once
in 15 minutes, a few per IP, 5 a second in all). Private torrents stay
off the DHT. The node joins the DHT only through
--dht-bootstrap nodes, which are none by default: until some are named it
contacts no one but nodes that query it (and those its state file
remembers). The public DHT is joined with, for example,
--dht-bootstrap router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881.
The node ID and routing table are kept in --dht-state across restarts.
--dht-rate bounds the packets sent per second; --dht-rate-per-ip the
queries answered per second from one IP address (bursts of four times
that), the rest dropped unanswered so that nobody can aim the node's
replies at a spoofed address.`

func (o *dhtOptions) addFlags(f *flag.FlagSet) {
	f.BoolVar(&o.on, "dht", true, "run a DHT node (BEP 5) that announces the torrents and answers for them; --dht=false turns it off")
	f.StringVar(&o.addr, "dht-addr", "", "UDP `ADDRESS` (host:port) of the DHT node (default: the --listen address and port)")
	f.Var(&o.bootstrap, "dht-bootstrap", "DHT bootstrap node `HOST:PORT`, commas or repeats for more (default none: the node contacts only nodes that query it)")
	f.StringVar(&o.state, "dht-state", "", "`FILE` keeping the DHT node ID and routing table across restarts (default: TORRENTS/.dht.json)")
	f.Float64Var(&o.rate, "dht-rate", dhtnode.DefaultRate, "most DHT packets sent per second, queries and replies together")
	f.Float64Var(&o.perIP, "dht-rate-per-ip", dhtnode.DefaultPerIPRate, "most DHT queries answered per second from one IP address; more are dropped")
}

// start starts the DHT node unless --dht=false (then nil): on --dht-addr,
// else the host and port of listen over UDP. Peers are given peerIP in
// answers, else the host of listen when it names one, else (a wildcard
// listen address) the address each querier sees the node at.
func (o *dhtOptions) start(listen, torrents string, peerIP netip.Addr, reg prometheus.Registerer, log *slog.Logger) (*dhtnode.Node, error) {
	if !o.on {
		return nil, nil
	}
	addr := o.addr
	if addr == "" {
		addr = listen
	}
	// A specific --listen address is the only one peers can reach us at:
	// queriers of its family get it (or --announce-ip), others nothing.
	onlyPeerIP := false
	if host, _, err := net.SplitHostPort(listen); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
			onlyPeerIP = true
			if !peerIP.IsValid() {
				peerIP = ip
			}
		}
	}
	state := o.state
	if state == "" {
		state = filepath.Join(torrents, ".dht.json")
	}
	cfg := dhtnode.Config{
		Addr:       addr,
		Bootstrap:  o.bootstrap.flat(),
		StateFile:  state,
		PeerIP:     peerIP,
		OnlyPeerIP: onlyPeerIP,
		Rate:       o.rate,
		PerIPRate:  o.perIP,
		Registerer: reg,
		Logger:     log,
	}
	if err := cfg.Validate(); err != nil {
		return nil, cli.UsageError{Err: fmt.Errorf("--dht: %w", err)}
	}
	n, err := dhtnode.Start(cfg)
	if err != nil {
		return nil, fmt.Errorf("--dht-addr %s: %w", addr, err)
	}
	return n, nil
}

// stopDHT closes the node, saving its state; a failure to save is a
// warning.
func stopDHT(n *dhtnode.Node, log *slog.Logger) {
	if err := n.Close(); err != nil {
		log.Warn("dht: state not saved", "err", err)
	}
}
