package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/progress"
	"github.com/bitorigin/bitorigin/loadtest/trackerload"
)

// trackerOptions are the flags of `loadtest tracker`.
type trackerOptions struct {
	cfg     trackerload.Config
	conn    string
	seeders float64
	json    bool
	quiet   bool
}

func trackerCommand() *cli.Command {
	c := cli.NewCommand("tracker", "URL", 1, "send announces and scrapes to an HTTP or UDP tracker", `
Sends announces and scrapes from simulated peers to the tracker at URL,
http://HOST:PORT/announce or udp://HOST:PORT, and reports the rate it
achieved, the answers by action and result, the errors by class, the
latency percentiles and the peers per answer. Scrapes over HTTP go to the
announce URL with "announce" replaced by "scrape".

Pick one pace:
  --rate N       open loop: N requests per second on a fixed schedule,
                 whether or not earlier ones returned. Latency counts from
                 the time each request was due, so a stalling tracker shows
                 in the percentiles (no coordinated omission). A request due
                 while --concurrency are in flight waits (backlogged); one
                 that waited longer than --timeout is dropped.
  --max N        closed loop: N workers, each sending its next request when
                 the last returned; finds the tracker's ceiling.
  --realistic    every peer announces again after the interval the tracker
                 returned, times --interval-scale.

The --warmup runs the same load first and is left out of the results.
Peers keep their peer ID, port and key across announces; they spread
over --torrents by --popularity, and each request is an action drawn by
--mix among those the chosen peer can take (only an inactive peer starts,
only a leecher completes). The info hashes follow from --torrents and
--seed: 'loadtest infohashes' prints them for a tracker's allow list.

A progress line is drawn on stderr when it is a terminal. The report goes
to stdout, as text or with --json as one JSON object. Exit status 1 when
not one request was answered.`)
	o := &trackerOptions{}
	f := c.Flags
	f.Float64Var(&o.cfg.Rate, "rate", 0, "open loop: `N` requests per second")
	f.IntVar(&o.cfg.Workers, "max", 0, "closed loop: `N` workers sending back to back")
	f.BoolVar(&o.cfg.Realistic, "realistic", false, "peers announce again after the returned interval (times --interval-scale)")
	f.Float64Var(&o.cfg.IntervalScale, "interval-scale", 1, "with --realistic, multiply returned intervals by `F` (0.01 turns 30 minutes into 18 seconds)")
	f.DurationVar(&o.cfg.Duration, "duration", 10*time.Second, "measured `time`")
	f.DurationVar(&o.cfg.Warmup, "warmup", 2*time.Second, "`time` of load before the measured part, left out of the results")
	f.IntVar(&o.cfg.Concurrency, "concurrency", 256, "with --rate or --realistic, most requests in flight `N`")
	f.DurationVar(&o.cfg.Timeout, "timeout", 5*time.Second, "`time` allowed for each request")
	f.StringVar(&o.conn, "conn", "keepalive", "HTTP connections: `keepalive` or close (a new connection per request)")
	f.IntVar(&o.cfg.Torrents, "torrents", 1000, "simulated torrents `N`")
	f.IntVar(&o.cfg.Peers, "peers", 10000, "simulated peers `N`, each in one torrent")
	o.cfg.Popularity = trackerload.DefaultPopularity
	f.Var(&o.cfg.Popularity, "popularity", "how peers spread over torrents: `zipf:S` (rank k gets 1/k^S), gamma:K (shares drawn from Gamma of shape K) or uniform")
	o.cfg.Mix = trackerload.DefaultMix
	f.Var(&o.cfg.Mix, "mix", "relative `weights` of started, none (regular announce), completed, stopped and scrape")
	f.Float64Var(&o.seeders, "seeders", 0.2, "`share` of starting peers that are seeders already")
	f.IntVar(&o.cfg.NumWant, "numwant", 50, "peers `N` each announce asks for; -1 leaves it to the tracker")
	f.Uint64Var(&o.cfg.Seed, "seed", 1, "`N` that fixes the info hashes and the population, so runs against different trackers match")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.BoolVar(&o.quiet, "quiet", false, "no progress line")
	c.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return runTracker(ctx, o, args[0], stdout, stderr)
	}
	return c
}

func runTracker(ctx context.Context, o *trackerOptions, target string, stdout, stderr io.Writer) error {
	cfg := o.cfg
	cfg.Target = target
	switch o.conn {
	case "keepalive", "keep-alive":
	case "close":
		cfg.ConnClose = true
	default:
		return cli.UsageError{Err: fmt.Errorf("--conn %q: want keepalive or close", o.conn)}
	}
	cfg.SeederShare = o.seeders
	if o.seeders == 0 {
		cfg.SeederShare = -1 // none; 0 would mean the default
	}
	if cfg.NumWant == 0 {
		return cli.UsageError{Err: fmt.Errorf("--numwant 0: a tracker answers no peers; ask for at least 1, or -1")}
	}
	if err := cfg.Validate(); err != nil {
		return cli.UsageError{Err: err}
	}
	if !o.quiet && progress.IsTerminal(stderr) {
		cfg.Progress = stderr
	}
	rep, err := trackerload.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := writeReport(stdout, o.json, rep); err != nil {
		return err
	}
	if rep.Sent > 0 && rep.Responses == 0 {
		return fmt.Errorf("not one of %d requests to %s was answered", rep.Sent, target)
	}
	return nil
}
