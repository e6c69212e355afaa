package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/progress"
	"github.com/bitorigin/bitorigin/loadtest/swarmload"
	"github.com/bitorigin/bitorigin/metainfo"
)

// swarmOptions are the flags of `loadtest swarm`.
type swarmOptions struct {
	cfg     swarmload.Config
	torrent string
	block   string
	upload  string
	json    bool
	quiet   bool
}

func swarmCommand() *cli.Command {
	c := cli.NewCommand("swarm", "", 0, "download a torrent from a seeder with many simulated leechers", `
Starts --leechers simulated leechers at once. Each connects to the seeder
over the peer wire protocol, downloads every piece of the torrent into
memory, checks each against its SHA-1 and disconnects. The report gives the
aggregate rate in MB/s (10^6 bytes), each leecher's time to complete as
percentiles, requests, rejected requests (BEP 6), chokes, hash failures,
and failed leechers by error class.

--torrent is a .torrent file or a magnet link; for a magnet link the info
dictionary is fetched from the seeder (BEP 9). Without --seeder the
torrent's HTTP trackers are asked for peers and the first one with every
piece is used.

With --trade the leechers also trade, as real clients do, so an origin
that offloads to its swarm (seeder --offload auto) can be measured with
hundreds of leechers in one process. Each leecher then also listens on a
loopback port and connects to up to --peers-per-leecher others (they learn
of each other inside the process, no tracker involved); it says what it
has with have messages, unchokes every peer and serves the blocks of the
pieces it verified, at most --leecher-upload-rate bytes per second in all.
It asks for each block of one peer at a time, the seeder or a leecher,
rarest piece first among what that peer announced, so an offloading
seeder is asked only for the pieces it revealed. A leecher that is done
stays and serves until every leecher is done. The report adds the bytes
received from the seeder and from other leechers, and the origin's share:
the bytes from the seeder in copies of the torrent (about 1 when the
origin offloads, --leechers when it serves everyone) and as a share of
all that was downloaded. Verified pieces are held once for the whole run,
not once per leecher: each leecher still checks every piece it assembles
against its SHA-1.

A progress line is drawn on stderr when it is a terminal. The report goes
to stdout, as text or with --json as one JSON object. Exit status 1 when
a leecher failed.`)
	o := &swarmOptions{}
	f := c.Flags
	f.StringVar(&o.torrent, "torrent", "", "the torrent: a .torrent `FILE` or a magnet link (required)")
	f.StringVar(&o.cfg.Seeder, "seeder", "", "the seeder's `HOST:PORT` (default: asked of the torrent's HTTP trackers)")
	f.IntVar(&o.cfg.Leechers, "leechers", 10, "leechers `N` downloading at once")
	f.StringVar(&o.block, "block", "16K", "request `SIZE`: 1K to 128K")
	f.IntVar(&o.cfg.Pipeline, "pipeline", 64, "requests `N` each leecher keeps in flight (lowered to the seeder's reqq); with --trade the most: each connection is asked about a second's worth of what it sends, at least 4 blocks")
	f.BoolVar(&o.cfg.Trade, "trade", false, "the leechers also download from and upload to each other, as real clients do (see above)")
	f.IntVar(&o.cfg.PeersPerLeecher, "peers-per-leecher", 8, "with --trade, most connections `N` of each leecher to other leechers")
	f.StringVar(&o.upload, "leecher-upload-rate", "0", "with --trade, each leecher's upload to the others in bytes per second, `SIZE` such as 1M; 0 for no cap")
	f.IntVar(&o.cfg.PeerPipeline, "peer-pipeline", 16, "with --trade, most requests `N` each leecher keeps in flight to each other leecher")
	f.DurationVar(&o.cfg.Timeout, "timeout", 5*time.Minute, "`time` allowed for the whole run")
	f.DurationVar(&o.cfg.IdleTimeout, "idle-timeout", 30*time.Second, "a leecher fails after the seeder is silent this `time` (with --trade: while it verified no piece either)")
	f.DurationVar(&o.cfg.DialTimeout, "dial-timeout", 10*time.Second, "`time` allowed to connect and exchange handshakes")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.BoolVar(&o.quiet, "quiet", false, "no progress line")
	c.Run = func(ctx context.Context, _ []string, stdout, stderr io.Writer) error {
		return runSwarm(ctx, o, stdout, stderr)
	}
	return c
}

func runSwarm(ctx context.Context, o *swarmOptions, stdout, stderr io.Writer) error {
	cfg := o.cfg
	switch {
	case o.torrent == "":
		return cli.UsageError{Err: errors.New("--torrent is required: a .torrent file or a magnet link")}
	case strings.HasPrefix(o.torrent, "magnet:"):
		m, err := metainfo.ParseMagnet(o.torrent)
		if err != nil {
			return cli.UsageError{Err: fmt.Errorf("--torrent: %w", err)}
		}
		cfg.Magnet = &m
	default:
		t, err := metainfo.Load(o.torrent)
		if errors.Is(err, os.ErrNotExist) {
			return cli.UsageError{Err: fmt.Errorf("--torrent %s: no such file", o.torrent)}
		}
		if err != nil {
			return cli.UsageError{Err: fmt.Errorf("--torrent: %w", err)}
		}
		cfg.Torrent = t
	}
	block, err := cli.ParseSize(o.block)
	if err == nil && block >= 1<<30 {
		// A request block is at most 128K: a gigabyte or more is a typo
		// the flag refuses itself, in the words it always has (G is no
		// unit for a block), before the swarm's own range check.
		err = fmt.Errorf("size %q: want a positive whole number of bytes, optionally with K or M", o.block)
	}
	if err != nil {
		return cli.UsageError{Err: fmt.Errorf("--block: %w", err)}
	}
	cfg.BlockSize = int(block)
	if o.upload != "0" {
		rate, err := cli.ParseSize(o.upload)
		if err != nil {
			return cli.UsageError{Err: fmt.Errorf("--leecher-upload-rate: %w", err)}
		}
		cfg.LeecherUploadRate = rate
	}
	if err := cfg.Validate(); err != nil {
		return cli.UsageError{Err: err}
	}
	if !o.quiet && progress.IsTerminal(stderr) {
		cfg.Progress = stderr
	}
	rep, err := swarmload.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := writeReport(stdout, o.json, rep); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d leechers failed", rep.Failed, rep.Leechers)
	}
	return nil
}
