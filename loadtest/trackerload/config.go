package trackerload

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Config is one load run. The zero value of a field means its default,
// except that exactly one of Rate, Workers and Realistic must be set.
type Config struct {
	// Target is the tracker: http(s)://HOST:PORT/announce or
	// udp://HOST:PORT. Scrapes over HTTP go to the announce URL with
	// "announce" replaced by "scrape".
	Target string
	// Rate is the open-loop schedule in requests per second.
	Rate float64
	// Workers is the closed loop: this many workers each send their next
	// request as soon as the last one returned.
	Workers int
	// Realistic makes every peer announce again after the interval the
	// tracker returned, times IntervalScale (default 1); the first
	// announces spread evenly over Warmup, or over one second without it.
	Realistic     bool
	IntervalScale float64
	// Duration is the measured part of the run (default 10s); Warmup runs
	// the same load before it, outside the results.
	Duration, Warmup time.Duration
	// Concurrency caps requests in flight in open-loop and realistic runs
	// (default 256). A request due while all are busy waits for one and
	// counts as backlogged; one that waited longer than Timeout is dropped.
	Concurrency int
	// Timeout bounds each request (default 5s).
	Timeout time.Duration
	// ConnClose opens a new HTTP connection for every request instead of
	// keeping connections alive.
	ConnClose bool
	// Torrents and Peers size the simulated population (defaults 1000
	// and 10000); Popularity spreads the peers over the torrents
	// (default DefaultPopularity).
	Torrents, Peers int
	Popularity      Popularity
	// Mix weighs what requests do (default DefaultMix).
	Mix Mix
	// SeederShare is the share of starting peers that already have
	// everything (default 0.2; negative for none).
	SeederShare float64
	// NumWant is the peers each announce asks for (default 50; negative
	// to leave it to the tracker).
	NumWant int
	// Seed fixes the info hashes and the population, so that runs against
	// different trackers see the same swarms (default 1).
	Seed uint64
	// Progress, when not nil, gets a status line redrawn every second:
	// pass a terminal, or nil.
	Progress io.Writer
}

// Limits that keep a typo from eating the machine.
const (
	maxTorrents    = 10_000_000
	maxPeers       = 10_000_000
	maxConcurrency = 65536
	maxRate        = 10_000_000
)

func (c Config) withDefaults() Config {
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Concurrency == 0 {
		c.Concurrency = 256
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Torrents == 0 {
		c.Torrents = 1000
	}
	if c.Peers == 0 {
		c.Peers = 10000
	}
	if c.Popularity.Kind == "" {
		c.Popularity = DefaultPopularity
	}
	if c.Mix.total() == 0 {
		c.Mix = DefaultMix
	}
	if c.SeederShare == 0 {
		c.SeederShare = 0.2
	}
	if c.NumWant == 0 {
		c.NumWant = 50
	}
	if c.IntervalScale == 0 {
		c.IntervalScale = 1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// Validate reports every setting that cannot work, joined.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Target == "" {
		bad("no target: want http://HOST:PORT/announce or udp://HOST:PORT")
	} else if _, err := parseTarget(c.Target, c.scrapes()); err != nil {
		errs = append(errs, err)
	}
	modes := 0
	for _, on := range []bool{c.Rate != 0, c.Workers != 0, c.Realistic} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		bad("pick one pace: a rate (open loop), a number of workers (closed loop) or the realistic mode")
	}
	if c.Rate < 0 || c.Rate > maxRate || c.Rate != c.Rate {
		bad("rate %g: want requests per second above 0 and at most %d", c.Rate, maxRate)
	}
	if c.Workers < 0 || c.Workers > maxConcurrency {
		bad("workers %d: want 1 to %d", c.Workers, maxConcurrency)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		bad("concurrency %d: want 1 to %d", c.Concurrency, maxConcurrency)
	}
	if !(c.IntervalScale > 0 && c.IntervalScale <= 1000) {
		bad("interval scale %g: want above 0 and at most 1000", c.IntervalScale)
	}
	if c.Duration < 0 || c.Warmup < 0 || c.Timeout < 0 {
		bad("duration %s, warm-up %s, time-out %s: none may be negative", c.Duration, c.Warmup, c.Timeout)
	}
	if c.Torrents < 1 || c.Torrents > maxTorrents {
		bad("torrents %d: want 1 to %d", c.Torrents, maxTorrents)
	}
	if c.Peers < 1 || c.Peers > maxPeers {
		bad("peers %d: want 1 to %d", c.Peers, maxPeers)
	}
	if c.SeederShare > 1 {
		bad("seeder share %g: want at most 1", c.SeederShare)
	}
	if c.NumWant > 1000 {
		bad("numwant %d: want at most 1000", c.NumWant)
	}
	for a, w := range c.Mix {
		if w < 0 || w != w {
			bad("mix weight of %s %g: must not be negative", Action(a), w)
		}
	}
	switch p := c.Popularity; {
	case p.Kind == "uniform":
	case p.Kind == "zipf" || p.Kind == "gamma":
		if !(p.Param > 0 && p.Param <= 100) {
			bad("popularity %s: parameter must be above 0 and at most 100", p.String())
		}
	default:
		bad("popularity %q: want zipf, gamma or uniform", p.Kind)
	}
	return errors.Join(errs...)
}

// scrapes reports whether the mix sends any scrape.
func (c *Config) scrapes() bool { return c.Mix[ActionScrape] > 0 || c.Mix.total() == 0 }

// slots is the most requests in flight at once.
func (c *Config) slots() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return c.Concurrency
}

// mode names the pace for reports.
func (c *Config) mode() string {
	switch {
	case c.Realistic:
		return "realistic"
	case c.Workers > 0:
		return "closed"
	}
	return "open"
}
