// Command tracker is the publisher's BitTorrent tracker: announce and scrape
// over HTTP, swarms in memory, health probes on a separate admin listener.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bitorigin/bitorigin/internal/admin"
	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/allowlist"
	"github.com/bitorigin/bitorigin/tracker/httpfront"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

const synopsis = `
Usage: tracker [flags]

A BitTorrent tracker for publishers: HTTP announce (BEP 3, compact peers per
BEP 23, IPv6 peers per BEP 7) and scrape (BEP 48) on --http-addr, with
/healthz and /readyz on --admin-addr. Swarms live in memory.`

const after = `
Signals: SIGHUP reloads the allow list; SIGTERM or SIGINT stops accepting
connections, lets requests in flight finish (up to --shutdown-timeout) and
exits 0.`

type options struct {
	httpAddr, adminAddr        string
	interval, minInterval      time.Duration
	peerLifetime               time.Duration
	numWantDefault, numWantMax int
	scrapeMax                  int
	allowList                  string
	trustedProxies             string
	fullScrape                 bool
	maxConns                   int
	readTimeout, writeTimeout  time.Duration
	idleTimeout                time.Duration
	shutdownTimeout            time.Duration
	logLevel, logFormat        string
	pprof                      bool
	showVersion                bool
}

func main() {
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.httpAddr, "http-addr", ":6969", "`address` for announce and scrape; \":6969\" serves IPv4 and IPv6")
	fs.StringVar(&o.adminAddr, "admin-addr", ":6970", "`address` for /healthz and /readyz; never the public port")
	fs.DurationVar(&o.interval, "interval", 30*time.Minute, "announce interval sent to clients (a ±5% jitter is added)")
	fs.DurationVar(&o.minInterval, "min-interval", 10*time.Minute, "shortest announce interval clients may use")
	fs.DurationVar(&o.peerLifetime, "peer-lifetime", 0, "how long a peer that stops announcing is kept (0: 1.5 × --interval)")
	fs.IntVar(&o.numWantDefault, "numwant-default", 50, "peers sent when the client does not ask for a number")
	fs.IntVar(&o.numWantMax, "numwant-max", 200, "most peers sent in one response, whatever the client asks")
	fs.IntVar(&o.scrapeMax, "scrape-max", 100, "most info hashes in one scrape")
	fs.StringVar(&o.allowList, "allow-list", "", "`file` of hex info hashes, one per line; when set, only these torrents are served.\nReloaded on SIGHUP and when the file changes")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For, X-Real-IP\nand ip/ipv4/ipv6 parameters are believed; nobody else's are")
	fs.BoolVar(&o.fullScrape, "full-scrape", false, "answer /scrape without info_hash with every torrent (off: it is a failure)")
	fs.IntVar(&o.maxConns, "max-conns", 65536, "most concurrent HTTP connections")
	fs.DurationVar(&o.readTimeout, "read-timeout", 5*time.Second, "time allowed to read one request")
	fs.DurationVar(&o.writeTimeout, "write-timeout", 5*time.Second, "time allowed to write one response")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 30*time.Second, "time a kept-alive connection may wait for its next request")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed for requests in flight to finish on SIGTERM")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	fs.BoolVar(&o.pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ on --admin-addr")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.Usage = cli.Usage(fs, "TRACKER", synopsis, after)

	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "tracker: unexpected argument %q (see --help)\n", fs.Arg(0))
		os.Exit(2)
	}
	if err := cli.ApplyEnv(fs, "TRACKER", os.LookupEnv); err != nil {
		fmt.Fprintf(os.Stderr, "tracker: %v\n", err)
		os.Exit(2)
	}
	if o.showVersion {
		fmt.Println(version.Name, "tracker", version.Version)
		return
	}
	log, err := cli.Logger(os.Stderr, o.logLevel, o.logFormat)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tracker: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		cli.Fatal(log, "tracker stopped", err)
	}
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	lifetime := o.peerLifetime
	if lifetime == 0 {
		lifetime = o.interval * 3 / 2
	}
	proxies, err := httpfront.ParsePrefixes(o.trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	store, err := memstore.New(memstore.Config{PeerLifetime: lifetime})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer store.Close()

	var allow tracker.Allower
	if o.allowList != "" {
		list, err := allowlist.Load(o.allowList, log)
		if err != nil {
			return fmt.Errorf("--allow-list: %w", err)
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go list.Watch(ctx, hup, 2*time.Second)
		allow = list
		log.Info("allow list loaded", "path", o.allowList, "torrents", list.Len())
	}

	tr, err := tracker.New(tracker.Config{
		Interval:       o.interval,
		MinInterval:    o.minInterval,
		NumWantDefault: o.numWantDefault,
		NumWantMax:     o.numWantMax,
		ScrapeMax:      o.scrapeMax,
		FullScrape:     o.fullScrape,
	}, store, allow)
	if err != nil {
		return err
	}
	front, err := httpfront.New(tr, httpfront.Config{
		TrustedProxies: proxies,
		ReadTimeout:    o.readTimeout,
		WriteTimeout:   o.writeTimeout,
		IdleTimeout:    o.idleTimeout,
		MaxConns:       o.maxConns,
		Logger:         log,
	})
	if err != nil {
		return err
	}

	var draining atomic.Bool
	adm := admin.New(func(ctx context.Context) error {
		if draining.Load() {
			return errors.New("shutting down")
		}
		return store.Ping(ctx)
	}, log)
	if o.pprof {
		adm.EnablePprof()
	}

	// Listen before serving so that a port in use is an error at start,
	// and so that ":port" is one dual-stack socket (fasthttp's own
	// ListenAndServe would listen on IPv4 only).
	httpLn, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return fmt.Errorf("--http-addr: %w", err)
	}
	adminLn, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("--admin-addr: %w", err)
	}

	errc := make(chan error, 2)
	go func() { errc <- front.Serve(httpLn) }()
	go func() { errc <- adm.Serve(adminLn) }()
	log.Info("tracker started",
		"version", version.Version,
		"http", httpLn.Addr().String(),
		"admin", adminLn.Addr().String(),
		"store", "memory",
		"interval", o.interval,
		"peer_lifetime", lifetime,
		"allow_list", o.allowList != "",
	)

	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight", "timeout", o.shutdownTimeout)
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	}
	draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	var errs []error
	if err := front.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := adm.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("admin shutdown: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log.Info("tracker stopped")
	return nil
}
