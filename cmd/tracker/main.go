// Command tracker is the publisher's BitTorrent tracker: announce and scrape
// over HTTP and UDP (BEP 15), swarms in memory or in Redis (shared by
// replicas), health probes, metrics and the registration API on a separate
// admin listener.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/bitorigin/bitorigin/internal/admin"
	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/metrics"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/allowlist"
	"github.com/bitorigin/bitorigin/tracker/httpfront"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/tracker/redisstore"
	"github.com/bitorigin/bitorigin/tracker/udpfront"
)

const synopsis = `
Usage: tracker [flags]

A BitTorrent tracker for publishers: HTTP announce (BEP 3, compact peers per
BEP 23, IPv6 peers per BEP 7) and scrape (BEP 48) on --http-addr, the UDP
tracker protocol (BEP 15) on --udp-addr, with /healthz, /readyz and
Prometheus /metrics on --admin-addr. Swarms live in memory, or in Redis when
--redis-url or --redis-addrs is given, so that several replicas share them.`

const after = `
Redis: the password comes from the URL (redis://:PASSWORD@host:6379/0) or from
TRACKER_REDIS_PASSWORD, which wins; it is never logged. --redis-addrs with
--redis-cluster talks to Redis Cluster; with --redis-master-name, to Sentinels.

UDP: connection IDs are an HMAC under a secret, so replicas behind one
address must share it: set TRACKER_UDP_SECRET (16 bytes or more) or
--udp-secret-file. Without either, each process picks a random secret.

Registration: with --registration, torrents registered through the admin API
are served besides those of --allow-list. The API needs the token from
TRACKER_ADMIN_TOKEN or --admin-token-file (16 bytes or more); a seeder
registers what it serves with it. PUT /admin/torrents/V1HASH?v2=V2HASH
registers a hybrid torrent: clients that announce or scrape it under its v1
hash or its v2 hash (truncated to 20 bytes) meet in one swarm, counted once.

Signals: SIGHUP reloads the allow list; SIGTERM or SIGINT stops accepting
connections, lets requests in flight finish (up to --shutdown-timeout) and
exits 0.`

type options struct {
	httpAddr, adminAddr        string
	udpAddr, udpSecretFile     string
	udpNumWantMax, udpReaders  int
	interval, minInterval      time.Duration
	peerLifetime               time.Duration
	numWantDefault, numWantMax int
	scrapeMax                  int
	allowList                  string
	trustedProxies             string
	fullScrape                 bool
	maxConns                   int
	maxTorrents, maxPeers      int
	readTimeout, writeTimeout  time.Duration
	idleTimeout                time.Duration
	shutdownTimeout            time.Duration
	logLevel, logFormat        string
	redisURL, redisAddrs       string
	redisCluster               bool
	redisMasterName            string
	redisPrefix                string
	redisPoolSize              int
	redisSampleUses            int
	redisTimeout               time.Duration
	pprof                      bool
	perTorrentMetrics          bool
	registration               bool
	adminTokenFile             string
	showVersion                bool
}

func main() {
	fs := flag.NewFlagSet("tracker", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.httpAddr, "http-addr", ":6969", "`address` for announce and scrape; \":6969\" serves IPv4 and IPv6")
	fs.StringVar(&o.udpAddr, "udp-addr", ":6969", "`address` for the UDP tracker protocol; \"\" turns UDP off")
	fs.StringVar(&o.udpSecretFile, "udp-secret-file", "", "`file` holding the secret for UDP connection IDs (instead of TRACKER_UDP_SECRET)")
	fs.IntVar(&o.udpNumWantMax, "udp-numwant-max", 50, "most peers in one UDP answer, so that it fits one packet (at most 70)")
	fs.IntVar(&o.udpReaders, "udp-readers", 0, "goroutines reading the UDP socket, each answering the packets it read in order\n(0: one per CPU with the memory store, reading up to 16 packets at once on Linux;\n64 with Redis, whose round trips they wait on, reading one at a time)")
	fs.StringVar(&o.adminAddr, "admin-addr", ":6970", "`address` for /healthz, /readyz and /metrics; never the public port")
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
	fs.IntVar(&o.maxTorrents, "max-torrents", 100_000, "memory store: most swarms kept; an announce that would start one more gets\n\"tracker is at its limit\" while known swarms are served")
	fs.IntVar(&o.maxPeers, "max-peers", 10_000_000, "memory store: most peers kept (about 110 bytes each); past it new peers are\nanswered but not stored until others expire")
	fs.DurationVar(&o.readTimeout, "read-timeout", 5*time.Second, "time allowed to read one request")
	fs.DurationVar(&o.writeTimeout, "write-timeout", 5*time.Second, "time allowed to write one response")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 30*time.Second, "time a kept-alive connection may wait for its next request")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed for requests in flight to finish on SIGTERM")
	fs.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&o.redisURL, "redis-url", "", "keep swarms in this Redis `URL` (redis://, rediss:// or unix://) instead of in memory")
	fs.StringVar(&o.redisAddrs, "redis-addrs", "", "comma-separated Redis `host:port` list: Cluster nodes (with --redis-cluster) or Sentinels\n(with --redis-master-name)")
	fs.BoolVar(&o.redisCluster, "redis-cluster", false, "--redis-addrs are Redis Cluster nodes")
	fs.StringVar(&o.redisMasterName, "redis-master-name", "", "Sentinel master `name`; --redis-addrs are then Sentinels")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "bt", "`prefix` of every Redis key, to share one Redis between deployments")
	fs.IntVar(&o.redisPoolSize, "redis-pool-size", 32, "most connections to each Redis node")
	fs.IntVar(&o.redisSampleUses, "redis-sample-uses", 64, "answers to a busy swarm (64 or more peers of one address family, 16 announces\nwithin 5s to this replica) that this replica takes from its own sample of the swarm\nbefore it draws a new sample from Redis (also after 5s and when the swarm outgrows\nit; one announce draws while the others use the old sample); counts stay exact,\nnewcomers show in answers within that bound, a peer that stops through this\nreplica leaves the sample at once. 0: draw every answer in Redis, which costs\nRedis about twice as much per announce to a busy swarm")
	fs.DurationVar(&o.redisTimeout, "redis-timeout", 250*time.Millisecond, "bound on each announce, scrape and readiness check against Redis, from the call\nto the answer (queueing, dial, write and read included); a request that hits it is\ntold the tracker is temporarily unavailable")
	fs.BoolVar(&o.registration, "registration", false, "allow-list mode with torrents registered through the admin API (PUT/DELETE\n/admin/torrents/HASH with the admin token), kept in the swarm store so every\nreplica on it shares them; combines with --allow-list. A hybrid (v1 + v2) torrent\nregistered with ?v2=HASH is one swarm under both hashes")
	fs.StringVar(&o.adminTokenFile, "admin-token-file", "", "`file` holding the admin API token (instead of TRACKER_ADMIN_TOKEN);\nwithout a token the API refuses every request")
	fs.BoolVar(&o.perTorrentMetrics, "per-torrent-metrics", false, "export seeders, leechers and downloads per torrent (labelled by info hash);\nneeds --allow-list, which bounds the number of series")
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
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		cli.Fatal(log, "tracker stopped", err)
	}
}

// run builds the tracker from o, serves until ctx is done and shuts down.
// Each step is one function below, in the order run calls them.
func run(ctx context.Context, o options, log *slog.Logger) error {
	lifetime := o.peerLifetime
	if lifetime == 0 {
		lifetime = o.interval * 3 / 2
	}
	proxies, err := httpfront.ParsePrefixes(o.trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if o.perTorrentMetrics && o.allowList == "" && !o.registration {
		return errors.New("--per-torrent-metrics needs --allow-list or --registration: without one, any client could create series")
	}
	token, err := secretFrom("TRACKER_ADMIN_TOKEN", o.adminTokenFile, "--admin-token-file")
	if err != nil {
		return err
	}
	store, storeName, err := openStore(o, lifetime)
	if err != nil {
		return err
	}
	defer store.Close()
	reg, m, err := newMetrics(store)
	if err != nil {
		return err
	}
	acc, err := openAccess(ctx, o, store, token, log)
	if err != nil {
		return err
	}
	defer acc.close()
	tr, err := newTracker(o, store, acc, reg, m, log)
	if err != nil {
		return err
	}
	fronts, err := newFrontends(o, tr, proxies, storeName, m, log)
	if err != nil {
		return err
	}
	var draining atomic.Bool
	adm := newAdmin(o, store, reg, acc.registry, token, &draining, log)
	lns, err := listen(ctx, o)
	if err != nil {
		return err
	}
	log.Info("tracker started",
		"version", version.Version,
		"http", lns.http.Addr().String(),
		"udp", udpAddrString(lns.udp),
		"admin", lns.admin.Addr().String(),
		"store", storeName,
		"interval", o.interval,
		"peer_lifetime", lifetime,
		"allow_list", o.allowList != "",
	)
	return serve(ctx, o, fronts, adm, lns, &draining, log)
}

// newMetrics returns the tracker's registry and metrics, with the store's
// own collector registered when it has one: the place for any other
// component's collector too.
func newMetrics(store tracker.Store) (*prometheus.Registry, *tracker.Metrics, error) {
	reg := metrics.NewRegistry("tracker")
	m, err := tracker.NewMetrics(reg)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	if c, ok := store.(interface{ Collector() prometheus.Collector }); ok {
		if err := reg.Register(c.Collector()); err != nil {
			return nil, nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return reg, m, nil
}

// access is which torrents the tracker serves: those of --allow-list,
// those registered through the admin API (--registration), both, or all
// (allow is nil).
type access struct {
	allow    tracker.Allower
	list     *allowlist.List
	registry *allowlist.Registry
	hup      chan os.Signal // reloads list; nil without one
}

// openAccess loads the allow list and the registry the flags ask for and
// starts watching them until ctx is done.
func openAccess(ctx context.Context, o options, store tracker.Store, token []byte, log *slog.Logger) (*access, error) {
	a := &access{}
	if o.allowList != "" {
		list, err := allowlist.Load(o.allowList, log)
		if err != nil {
			return nil, fmt.Errorf("--allow-list: %w", err)
		}
		a.hup = make(chan os.Signal, 1)
		signal.Notify(a.hup, syscall.SIGHUP)
		go list.Watch(ctx, a.hup, 2*time.Second)
		a.list, a.allow = list, list
		log.Info("allow list loaded", "path", o.allowList, "torrents", list.Len())
	}
	if o.registration {
		as, ok := store.(tracker.AllowStore)
		if !ok {
			a.close()
			return nil, errors.New("--registration: the store cannot keep registered torrents")
		}
		a.registry = allowlist.NewRegistry(ctx, as, log)
		go a.registry.Watch(ctx, time.Second)
		if a.list != nil {
			a.allow = allowlist.Any{a.list, a.registry}
		} else {
			a.allow = a.registry
		}
		if len(token) == 0 {
			log.Warn("--registration without an admin token: the registration API refuses every request")
		}
		log.Info("registration on", "registered", len(a.registry.Hashes()))
	}
	return a, nil
}

// close stops taking SIGHUP for the allow list.
func (a *access) close() {
	if a.hup != nil {
		signal.Stop(a.hup)
	}
}

// hashes returns the info hashes of the allow list and the registry, sorted
// and without repeats.
func (a *access) hashes() []tracker.InfoHash {
	var all []tracker.InfoHash
	if a.list != nil {
		all = a.list.Hashes()
	}
	if a.registry != nil {
		all = append(all, a.registry.Hashes()...)
	}
	slices.SortFunc(all, func(a, b tracker.InfoHash) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(all)
}

// newTracker returns the swarm policy over store, with the per-torrent
// collector on reg when --per-torrent-metrics asks for it.
func newTracker(o options, store tracker.Store, acc *access, reg *prometheus.Registry, m *tracker.Metrics, log *slog.Logger) (*tracker.Tracker, error) {
	var aliases tracker.Aliases
	if acc.registry != nil {
		// Hybrid torrents registered with their v2 hash: the replica's
		// copy of the registry resolves it, so stores see one swarm.
		aliases = acc.registry
	}
	tr, err := tracker.New(tracker.Config{
		Interval:       o.interval,
		MinInterval:    o.minInterval,
		NumWantDefault: o.numWantDefault,
		NumWantMax:     o.numWantMax,
		ScrapeMax:      o.scrapeMax,
		FullScrape:     o.fullScrape,
		Logger:         log,
		Metrics:        m,
		Aliases:        aliases,
	}, store, acc.allow)
	if err != nil {
		return nil, err
	}
	if o.perTorrentMetrics {
		if err := reg.Register(tr.TorrentCollector(acc.hashes)); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return tr, nil
}

// frontends are the public servers: HTTP, and UDP unless --udp-addr is "".
type frontends struct {
	http *httpfront.Server
	udp  *udpfront.Server
}

// newFrontends builds the servers, not yet listening: a bad UDP secret is
// an error before any port is taken.

func newFrontends(o options, tr *tracker.Tracker, proxies []netip.Prefix, storeName string, m *tracker.Metrics, log *slog.Logger) (frontends, error) {
	var f frontends
	var err error
	f.http, err = httpfront.New(tr, httpfront.Config{
		TrustedProxies: proxies,
		ReadTimeout:    o.readTimeout,
		WriteTimeout:   o.writeTimeout,
		IdleTimeout:    o.idleTimeout,
		MaxConns:       o.maxConns,
		StoreWaits:     o.redisURL != "" || o.redisAddrs != "",
		Logger:         log,
		Metrics:        m,
	})
	if err != nil {
		return frontends{}, err
	}
	if o.udpAddr == "" {
		return f, nil
	}
	secret, err := secretFrom("TRACKER_UDP_SECRET", o.udpSecretFile, "--udp-secret-file")
	if err != nil {
		return frontends{}, err
	}
	if secret == nil {
		log.Warn("UDP connection IDs use a random secret: replicas behind one address need TRACKER_UDP_SECRET or --udp-secret-file")
	}
	readers := o.udpReaders
	batch := 0 // udpfront's default: answer the packets waiting, in batches
	if storeName != "memory" {
		if readers == 0 {
			readers = 64
		}
		// Each answer waits on a round trip: a packet queued behind
		// another in one reader's batch would wait for it too.
		batch = 1
	}
	f.udp, err = udpfront.New(tr, udpfront.Config{Secret: secret, NumWantMax: o.udpNumWantMax, Readers: readers, Batch: batch, Logger: log, Metrics: m})
	if err != nil {
		return frontends{}, fmt.Errorf("--udp-*: %w", err)
	}
	return f, nil
}

// newAdmin returns the admin server: probes (unready once draining is
// set), /metrics, the registration API and the profiler as asked.
func newAdmin(o options, store tracker.Store, reg *prometheus.Registry, registry *allowlist.Registry, token []byte, draining *atomic.Bool, log *slog.Logger) *admin.Server {
	adm := admin.New(func(ctx context.Context) error {
		if draining.Load() {
			return errors.New("shutting down")
		}
		return store.Ping(ctx)
	}, log)
	adm.Handle("GET /metrics", metrics.Handler(reg))
	if registry != nil {
		api := registry.Handler(token)
		adm.Handle(allowlist.APIPrefix, api)
		adm.Handle(allowlist.APIPrefix+"/", api)
	}
	if o.pprof {
		adm.EnablePprof()
	}
	return adm
}

// listeners are the tracker's sockets. They are opened before serving so
// that a port in use is an error at start, and so that ":port" is one
// dual-stack socket (fasthttp's own ListenAndServe would listen on IPv4
// only).
type listeners struct {
	http, admin net.Listener
	udp         *net.UDPConn // nil when UDP is off
}

func listen(ctx context.Context, o options) (listeners, error) {
	var l listeners
	var err error
	if l.http, err = httpfront.Listen(ctx, o.httpAddr); err != nil {
		return listeners{}, fmt.Errorf("--http-addr: %w", err)
	}
	if l.admin, err = net.Listen("tcp", o.adminAddr); err != nil {
		l.http.Close()
		return listeners{}, fmt.Errorf("--admin-addr: %w", err)
	}
	if o.udpAddr == "" {
		return l, nil
	}
	ua, err := net.ResolveUDPAddr("udp", o.udpAddr)
	if err == nil {
		l.udp, err = net.ListenUDP("udp", ua)
	}
	if err != nil {
		l.http.Close()
		l.admin.Close()
		return listeners{}, fmt.Errorf("--udp-addr: %w", err)
	}
	return l, nil
}

// serve runs the servers on their sockets until ctx is done or one fails,
// then sets draining and lets requests in flight finish, up to
// --shutdown-timeout.
func serve(ctx context.Context, o options, f frontends, adm *admin.Server, l listeners, draining *atomic.Bool, log *slog.Logger) error {
	var udpDone chan error
	if l.udp != nil {
		udpDone = make(chan error, 1)
		go func() { udpDone <- f.udp.Serve(l.udp) }()
	}
	errc := make(chan error, 2)
	go func() { errc <- f.http.Serve(l.http) }()
	go func() { errc <- adm.Serve(l.admin) }()

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
	if l.udp != nil {
		// A UDP request is one packet: closing the socket ends the readers
		// after the packet each is answering.
		l.udp.Close()
		<-udpDone
	}
	if err := f.http.Shutdown(sctx); err != nil {
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

// openStore builds the swarm store the flags ask for and a description of
// it for the log (never with a password).
func openStore(o options, lifetime time.Duration) (tracker.Store, string, error) {
	if o.redisURL == "" && o.redisAddrs == "" {
		if o.redisCluster || o.redisMasterName != "" {
			return nil, "", errors.New("--redis-cluster and --redis-master-name need --redis-addrs")
		}
		s, err := memstore.New(memstore.Config{PeerLifetime: lifetime, MaxTorrents: o.maxTorrents, MaxPeers: o.maxPeers})
		if err != nil {
			return nil, "", fmt.Errorf("store: %w", err)
		}
		return s, "memory", nil
	}
	var addrs []string
	for _, a := range strings.Split(o.redisAddrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	// go-redis prints every failed dial to stderr; the tracker already logs
	// store failures once per burst, so its own lines go to debug.
	redis.SetLogger(redisLogger{slog.Default()})
	client, err := redisstore.NewClient(redisstore.ClientConfig{
		URL:        o.redisURL,
		Addrs:      addrs,
		Cluster:    o.redisCluster,
		MasterName: o.redisMasterName,
		Password:   os.Getenv("TRACKER_REDIS_PASSWORD"),
		PoolSize:   o.redisPoolSize,
		Timeout:    o.redisTimeout,
	})
	if err != nil {
		return nil, "", fmt.Errorf("--redis-*: %w", err)
	}
	sampleUses := o.redisSampleUses
	if sampleUses < 0 {
		client.Close()
		return nil, "", fmt.Errorf("--redis-sample-uses %d: must be 0 (off) or more", sampleUses)
	}
	if sampleUses == 0 {
		sampleUses = -1
	}
	s, err := redisstore.New(redisstore.Config{Client: client, Prefix: o.redisPrefix, PeerLifetime: lifetime, Timeout: o.redisTimeout, Logger: slog.Default(), SampleUses: sampleUses})
	if err != nil {
		client.Close()
		return nil, "", fmt.Errorf("store: %w", err)
	}
	switch {
	case o.redisURL != "":
		return s, "redis " + redisstore.Redact(o.redisURL), nil
	case o.redisCluster:
		return s, "redis cluster " + strings.Join(addrs, ","), nil
	}
	return s, "redis sentinel " + o.redisMasterName + "@" + strings.Join(addrs, ","), nil
}

// redisLogger sends go-redis's internal messages to slog at debug level.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if r.l.Enabled(ctx, slog.LevelDebug) {
		r.l.Debug("redis: " + fmt.Sprintf(format, v...))
	}
}

// secretFrom reads a secret from a file flag or an environment variable
// (never from a flag's value, which would show in process listings); nil
// means neither is set.
func secretFrom(env, file, flagName string) ([]byte, error) {
	val := os.Getenv(env)
	switch {
	case file != "" && val != "":
		return nil, fmt.Errorf("both %s and %s are set: keep one", flagName, env)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flagName, err)
		}
		secret := []byte(strings.TrimSpace(string(b)))
		if len(secret) < minSecretLen {
			return nil, fmt.Errorf("%s %s: secret of %d bytes, need at least %d", flagName, file, len(secret), minSecretLen)
		}
		return secret, nil
	case val != "":
		if len(val) < minSecretLen {
			return nil, fmt.Errorf("%s: secret of %d bytes, need at least %d", env, len(val), minSecretLen)
		}
		return []byte(val), nil
	}
	return nil, nil
}

// minSecretLen is the shortest UDP secret or admin token accepted.
const minSecretLen = udpfront.MinSecretLen

func udpAddrString(c *net.UDPConn) string {
	if c == nil {
		return "off"
	}
	return c.LocalAddr().String()
}
