package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/internal/admin"
	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/progress"
	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/metrics"
	origin "github.com/bitorigin/bitorigin/seeder"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// serveOptions are the flags of `seeder serve`.
type serveOptions struct {
	data, torrents, resumeDir string
	trackers                  listFlag
	listen, adminAddr         string
	announceIP                string
	announcePort              int
	pieceLength               sizeFlag
	hybrid, v2, v1Twin        bool
	uploadSlots               int
	uploadRate                string
	offload                   string
	maxConns, maxPerTorrent   int
	maxDials, maxPerIP        int
	connLimitExempt           string
	handshakeTimeout          time.Duration
	idleTimeout, writeTimeout time.Duration
	keepAlive, rechoke        time.Duration
	maxRequest                sizeFlag
	reqq, maxBad              int
	maxOpenFiles              int
	verifyWorkers             int
	logLevel, logFormat       string
	pprof                     bool
	encryption                string
	live                      liveOptions
	dht                       dhtOptions
}

func serveCommand() *cli.Command { return serveCommandFor(&serveOptions{}) }

// serveCommandFor is `seeder serve` with its flags parsed into o.
func serveCommandFor(o *serveOptions) *cli.Command {
	c := cli.NewCommand("serve", "", 0, "seed every file and folder of a content folder", `
Seeds each top-level file or folder of --data as one torrent, on one
listening port for all of them. An existing .torrent in --torrents whose
files match the data is used; otherwise NAME.torrent is created there with
the --tracker URLs. The data is verified against the piece hashes before
serving (a resume record in --resume-dir lets a restart skip files that did
not change); a piece that fails is never served. An entry whose name is not
valid UTF-8 gets no created torrent (BEP 3 wants UTF-8 names; see create
--help) and is skipped with an error in the log; a matching .torrent made
elsewhere is served, its name shown in /metrics with U+FFFD for bad bytes.

Every torrent is announced to its trackers (each --tracker is a tier; URLs
joined by commas share one), and the leechers they return are dialled, as
some clients never dial a seeder on a local address themselves.

Torrents of every version are served: v1, hybrid and v2-only (BEP 52), as
create makes them or libtorrent does. Created torrents are v1, which every
client reads, unless --hybrid or --v2 says otherwise (see create --help:
Transmission 3.00 and aria2 1.36 need v1; libtorrent 2 reads hybrid and v2
torrents); an existing .torrent that matches the data is used whatever its
version. A hybrid is one torrent in two swarms: peers reach it on the same
port by its v1 info hash or by its truncated v2 one (the first 40 hex
digits of the v2 hash), it is announced, and with --register-url
registered, under both, and /torrents shows both (info_hash, info_hash_v2).
Beside each hybrid it serves, serve also publishes its v1-only twin
(--v1-twin, on by default): a plain v1 torrent of the same files, without
the hybrid's BEP 47 padding files, with an info hash of its own, written as
NAME.v1.torrent beside NAME.torrent, served on the same port, announced and
registered as a torrent of its own, and shown in /torrents (twin_of: the
hybrid's info hash; the hybrid's v1_twin: the twin's) and in the log with
its magnet link. It has no padding files, which clients that do not know
BEP 47 would write into the download as a .pad folder: it holds exactly the
files. It is on by default because Transmission 3.00 refuses a
hybrid .torrent and aria2 1.36 announces a wrong info hash for one: without
the twin those clients (Debian bookworm's) cannot download a hybrid release
at all. Its cost is one more SHA-1 pass over the data, in the same read as
the hybrid's hashing when both are created (none for a single file or files
that end on piece boundaries: then the pieces are the hybrid's), and a
second swarm per release. --v1-twin=false when every client reads hybrids.
A v2-only torrent is known by its truncated v2 hash. v2 peers that joined
by magnet link get the piece layers through BEP 52 hash requests; block
hashes are refused (a v2 client asks for them only when a piece failed).

Peers may connect plain or with Message Stream Encryption (MSE/PE, RC4 after
a Diffie-Hellman exchange, as libtorrent, Transmission and others speak it)
on the same port. --encryption prefer (the default) accepts both, and gives
RC4 to a peer that offers it; leechers are dialled plain, and one that hangs
up on the plain handshake (it requires encryption) is dialled again
encrypted. --encryption require refuses plain peers and plaintext inside
MSE, and dials encrypted. --encryption off speaks plain BitTorrent only.
RC4 costs CPU on every byte served to an encrypted peer.

The admin listener serves /healthz, /readyz (ready once verification is
done), /torrents (JSON: name, info hashes, size, peers, bytes uploaded,
magnet link) and /metrics (Prometheus: bytes uploaded and size per torrent,
peers, requests served and rejected, disk read latency, announces,
verification); never on the peer port.
`+liveHelp+`
`+dhtHelp+`

Every flag can also be set by an environment variable: SEEDER_ followed by
the flag's name in upper case with dashes as underscores, for example
SEEDER_DATA, SEEDER_UPLOAD_SLOTS. The command line wins.

SIGTERM or SIGINT: stop listening, send stopped announces, close the peer
connections, exit 0.`)
	f := c.Flags
	f.StringVar(&o.data, "data", "", "content `DIR`: each top-level file or folder is one torrent (required)")
	f.StringVar(&o.torrents, "torrents", "", "`DIR` of .torrent files, used when they match the data and created otherwise (required)")
	f.StringVar(&o.resumeDir, "resume-dir", "", "`DIR` for resume records (default: TORRENTS/.resume)")
	f.Var(&o.trackers, "tracker", "tracker announce `URL` for created torrents and torrents without trackers; repeat for more tiers, commas within one tier")
	f.StringVar(&o.listen, "listen", ":6881", "peer `ADDRESS` (host:port) for every torrent; with no host (:6881), 0.0.0.0 or [::] it accepts IPv4 and IPv6 peers and announces over each family, so trackers learn both addresses (BEP 7); a specific address, only its family")
	f.StringVar(&o.adminAddr, "admin-addr", ":6882", "`ADDRESS` for /healthz, /readyz, /torrents and /metrics; never the peer port")
	f.StringVar(&o.announceIP, "announce-ip", "", "public `IP` trackers should hand out for us (behind NAT or a load balancer); default: the address they see")
	f.IntVar(&o.announcePort, "announce-port", 0, "public `PORT` trackers should hand out for us (default: the --listen port)")
	f.Var(&o.pieceLength, "piece-length", "piece length of created torrents, `SIZE` a power of two from 16K to 256M (default: chosen for 1,000 to 2,000 pieces)")
	f.BoolVar(&o.hybrid, "hybrid", false, "create hybrid v1 + v2 torrents (BEP 52 with BEP 47 padding), served to v1 and v2 peers; Transmission 3.00 and aria2 1.36 cannot use them and get the v1 twin (--v1-twin)")
	f.BoolVar(&o.v1Twin, "v1-twin", true, "with every hybrid torrent, also publish its v1-only twin NAME.v1.torrent (the same files without padding, its own info hash) for Transmission 3.00 and aria2 1.36, which cannot join a hybrid's swarm; costs one more SHA-1 pass over the data")
	f.BoolVar(&o.v2, "v2", false, "create v2-only torrents (BEP 52), for v2 clients such as libtorrent 2 only")
	f.IntVar(&o.uploadSlots, "upload-slots", origin.DefaultUploadSlots, "interested peers unchoked at once, besides one optimistic slot; more rotate round-robin")
	f.StringVar(&o.uploadRate, "upload-rate", "0", "upload limit of all torrents together in bytes per second, `SIZE` such as 50M; 0 for none")
	f.StringVar(&o.offload, "offload", "auto", "`MODE` auto: reveal pieces to leechers a few at a time, distinct pieces to distinct leechers, so they trade the rest and about one copy leaves the origin however many download (a lone leecher, or one the swarm does not feed within a few seconds, is still served at full speed, and while the uplink is idle a leecher waiting for the swarm is told of pieces it is spreading, at most 1/n of a copy for n peers); off: announce every piece to every peer and serve whatever is asked, like any seed")
	f.IntVar(&o.maxConns, "max-conns", origin.DefaultMaxConns, "most peer connections in total; when reached, a newcomer replaces the oldest connection still in its handshake, and is refused only when every connection is past it")
	f.IntVar(&o.maxPerTorrent, "max-conns-per-torrent", origin.DefaultMaxConnsPerTorrent, "most peer connections per torrent")
	f.IntVar(&o.maxPerIP, "max-conns-per-ip", origin.DefaultMaxConnsPerIP, "most incoming peer connections from one IPv4 address or IPv6 /64, handshakes included; at the limit a newcomer replaces that address's oldest connection still in its handshake, or is refused (a client keeps one connection per torrent with us)")
	f.StringVar(&o.connLimitExempt, "conn-limit-exempt", prefixList(origin.DefaultConnLimitExempt), "addresses `CIDR,...` exempt from --max-conns-per-ip (still counted in --max-conns), or none. The default, loopback, lets no remote host past the limit (the kernel drops packets from 127/8 or ::1 arriving from a network) and keeps a proxy on this machine and the real clients of local tests, which all share 127.0.0.1, working; list a proxy or NAT that connects for many clients, or say none to limit loopback too")
	f.IntVar(&o.maxDials, "max-dials-per-torrent", origin.DefaultMaxDialsPerTorrent, "most connections per torrent that we open to leechers from the trackers")
	f.DurationVar(&o.handshakeTimeout, "handshake-timeout", origin.DefaultHandshakeTimeout, "time allowed to connect and exchange handshakes")
	f.DurationVar(&o.idleTimeout, "idle-timeout", origin.DefaultIdleTimeout, "a peer silent this long is disconnected")
	f.DurationVar(&o.writeTimeout, "write-timeout", origin.DefaultWriteTimeout, "a peer that does not read our data for this long is disconnected")
	f.DurationVar(&o.keepAlive, "keep-alive", origin.DefaultKeepAlive, "a keep-alive is sent after this long without sending anything")
	f.DurationVar(&o.rechoke, "rechoke-interval", origin.DefaultRechokeInterval, "how often upload slots rotate when more peers are interested than there are slots")
	o.maxRequest = origin.DefaultMaxRequest
	f.Var(&o.maxRequest, "max-request", "largest block `SIZE` a peer may request, up to 128K (larger requests are rejected)")
	f.IntVar(&o.reqq, "reqq", origin.DefaultReqQ, "requests a peer may have queued, advertised as reqq; more are rejected")
	f.IntVar(&o.maxBad, "max-bad-requests", origin.DefaultMaxBadRequests, "bad requests (out of range, too long, over reqq) tolerated before a peer is disconnected")
	f.IntVar(&o.maxOpenFiles, "max-open-files", 64, "open file handles kept per torrent")
	f.IntVar(&o.verifyWorkers, "verify-workers", 0, "goroutines hashing pieces at start (default: one per core)")
	f.StringVar(&o.encryption, "encryption", peer.EncryptionPrefer.String(), "encrypted (MSE/PE) peers: `POLICY` prefer (accept plain and encrypted), require (encrypted only) or off (plain only)")
	f.StringVar(&o.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	f.BoolVar(&o.pprof, "pprof", false, "serve Go's profiler at /debug/pprof/ on --admin-addr")
	o.live.addFlags(f)
	o.dht.addFlags(f)
	// Not c.EnvPrefix: the help above explains the variables once rather
	// than naming one under every flag.
	c.Run = func(ctx context.Context, _ []string, stdout, stderr io.Writer) error {
		if err := cli.ApplyEnv(f, "SEEDER", os.LookupEnv); err != nil {
			return cli.UsageError{Err: err}
		}
		return serve(ctx, o, stdout, stderr)
	}
	return c
}

// seederConfig checks the options and turns them into the seeder's
// configuration.
func (o *serveOptions) seederConfig() (origin.Config, error) {
	var cfg origin.Config
	if o.data == "" || o.torrents == "" {
		return cfg, cli.UsageError{Err: errors.New("--data and --torrents are required")}
	}
	if o.announceIP != "" {
		ip, err := netip.ParseAddr(o.announceIP)
		if err != nil {
			return cfg, cli.UsageError{Err: fmt.Errorf("--announce-ip: %w", err)}
		}
		cfg.AnnounceIP = ip
	}
	if o.hybrid && o.v2 {
		return cfg, cli.UsageError{Err: errors.New("--hybrid and --v2 exclude each other")}
	}
	if o.announcePort < 0 || o.announcePort > 65535 {
		return cfg, cli.UsageError{Err: fmt.Errorf("--announce-port %d: not a port", o.announcePort)}
	}
	rate := int64(0)
	if o.uploadRate != "0" && o.uploadRate != "" {
		n, err := cli.ParseSize(o.uploadRate)
		if err != nil {
			return cfg, cli.UsageError{Err: fmt.Errorf("--upload-rate: %w", err)}
		}
		rate = n
	}
	switch o.offload {
	case "auto":
		cfg.Offload = true
	case "off":
	default:
		return cfg, cli.UsageError{Err: fmt.Errorf("--offload %q: want auto or off", o.offload)}
	}
	if o.uploadSlots < 1 {
		return cfg, cli.UsageError{Err: fmt.Errorf("--upload-slots %d: need at least 1", o.uploadSlots)}
	}
	cfg.Trackers = o.trackers
	cfg.AnnouncePort = uint16(o.announcePort)
	cfg.UploadSlots = o.uploadSlots
	cfg.UploadRate = rate
	cfg.MaxConns = o.maxConns
	cfg.MaxConnsPerTorrent = o.maxPerTorrent
	cfg.MaxDialsPerTorrent = o.maxDials
	cfg.MaxConnsPerIP = o.maxPerIP
	exempt, err := parsePrefixes(o.connLimitExempt)
	if err != nil {
		return cfg, cli.UsageError{Err: fmt.Errorf("--conn-limit-exempt: %w", err)}
	}
	cfg.ConnLimitExempt = exempt
	cfg.HandshakeTimeout = o.handshakeTimeout
	cfg.IdleTimeout = o.idleTimeout
	cfg.WriteTimeout = o.writeTimeout
	cfg.KeepAlive = o.keepAlive
	cfg.RechokeInterval = o.rechoke
	cfg.MaxRequest = int(o.maxRequest)
	cfg.ReqQ = o.reqq
	cfg.MaxBadRequests = o.maxBad
	enc, err := peer.ParseEncryption(o.encryption)
	if err != nil {
		return cfg, cli.UsageError{Err: fmt.Errorf("--encryption: %w", err)}
	}
	cfg.Encryption = enc
	if err := cfg.Validate(); err != nil {
		return cfg, cli.UsageError{Err: err}
	}
	return cfg, nil
}

// version is the version of the torrents serve creates.
func (o *serveOptions) version() metainfo.Version {
	switch {
	case o.hybrid:
		return metainfo.Hybrid
	case o.v2:
		return metainfo.V2
	}
	return metainfo.V1
}

func serve(ctx context.Context, o *serveOptions, stdout, stderr io.Writer) error {
	cfg, err := o.seederConfig()
	if err != nil {
		return err
	}
	log, err := cli.Logger(stderr, o.logLevel, o.logFormat)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	cfg.Logger = log
	reg := metrics.NewRegistry("seeder")
	m, err := origin.NewMetrics(reg)
	if err != nil {
		return err
	}
	cfg.Metrics = m
	cm, err := content.NewMetrics(reg)
	if err != nil {
		return err
	}

	// Listen first, so a port in use fails at once rather than after
	// minutes of hashing.
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	defer ln.Close()
	node, err := o.dht.start(o.listen, o.torrents, cfg.AnnounceIP, reg, log)
	if err != nil {
		return err
	}
	defer stopDHT(node, log)
	cfg.DHT = node
	lv, err := o.live.setup(log)
	if err != nil {
		return err
	}
	defer lv.stop()
	adminLn, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		return fmt.Errorf("--admin-addr: %w", err)
	}
	var (
		running  atomic.Pointer[origin.Seeder]
		draining atomic.Bool
	)
	adm := admin.New(func(context.Context) error {
		switch {
		case draining.Load():
			return errors.New("shutting down")
		case running.Load() == nil:
			return errors.New("verifying data")
		}
		return nil
	}, log)
	adm.Handle("GET /torrents", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		list := []origin.TorrentStatus{}
		if s := running.Load(); s != nil {
			list = s.Status()
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(list)
	}))
	adm.Handle("GET /metrics", metrics.Handler(reg))
	if o.pprof {
		adm.EnablePprof()
	}
	adminDone := make(chan error, 1)
	go func() { adminDone <- adm.Serve(adminLn) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		adm.Shutdown(sctx)
		<-adminDone
	}()
	log.Info("seeder starting", "version", version.Version, "listen", ln.Addr().String(),
		"admin", adminLn.Addr().String(), "data", o.data, "torrents", o.torrents)

	torrents, cat, err := lv.load(ctx, content.LoadConfig{
		DataDir:      o.data,
		TorrentDir:   o.torrents,
		ResumeDir:    o.resumeDir,
		Trackers:     o.trackers,
		PieceLength:  int64(o.pieceLength),
		Version:      o.version(),
		V1Twin:       o.v1Twin,
		Workers:      o.verifyWorkers,
		MaxOpenFiles: o.maxOpenFiles,
		Progress: func(label string) content.Progress {
			return progress.New(stderr, label)
		},
		Metrics: cm,
		Logger:  log,
	})
	if err != nil {
		if ctx.Err() != nil {
			log.Info("seeder stopped during verification")
			return nil
		}
		return err
	}
	cfg.Registrar = lv.registrar
	s, err := origin.New(cfg, torrents)
	if err != nil {
		content.CloseAll(torrents)
		return err
	}
	if err := reg.Register(s.Collector()); err != nil {
		content.CloseAll(torrents)
		return fmt.Errorf("metrics: %w", err)
	}
	for _, st := range s.Status() {
		fmt.Fprintf(stdout, "name:      %s\ninfo hash: %s\n", st.Name, st.InfoHash)
		if st.InfoHashV2 != "" {
			fmt.Fprintf(stdout, "v2 hash:   %s\n", st.InfoHashV2)
		}
		if st.TwinOf != "" {
			fmt.Fprintf(stdout, "twin of:   %s (v1-only twin of that hybrid, for clients without v2)\n", st.TwinOf)
		}
		fmt.Fprintf(stdout, "torrent:   %s\nmagnet:    %s\n\n", st.Torrent, st.Magnet)
	}
	running.Store(s)
	lv.start(ctx, s, cat)
	id := s.PeerID()
	log.Info("seeder ready", "torrents", len(torrents), "listen", ln.Addr().String(),
		"peer_id", strconv.Quote(string(id[:])))
	err = s.Serve(ctx, ln)
	draining.Store(true)
	if err != nil {
		return err
	}
	log.Info("seeder stopped")
	return nil
}
