// Package httpfront is the tracker's HTTP frontend on fasthttp: it parses
// announce and scrape requests into tracker values and writes bencoded
// answers (BEP 3, BEP 23, BEP 7, BEP 48).
package httpfront

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bitorigin/bitorigin/tracker"
)

// Config configures the HTTP frontend. The zero value of a field means its
// default.
type Config struct {
	// TrustedProxies are the sources whose X-Forwarded-For, X-Real-IP and
	// ip/ipv4/ipv6 parameters are believed.
	TrustedProxies []netip.Prefix
	// ReadTimeout bounds reading one request (default 5s), WriteTimeout
	// writing one response (default 5s), IdleTimeout a kept-alive
	// connection between requests (default 30s).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// MaxConns caps concurrent connections (default 65536).
	MaxConns int
	// Acceptors is how many goroutines accept connections, each serving
	// the one it accepted before it accepts the next (default GOMAXPROCS:
	// as many as can run at once; see accept.go).
	Acceptors int
	// StoreWaits says that the tracker's store answers over the network
	// (Redis), so that a request waits for it: an acceptor then hands
	// accepting to another goroutine before it asks the store.
	StoreWaits bool
	// MaxRequestSize caps a request's line and headers in bytes
	// (default 8192); a longer one gets 431.
	MaxRequestSize int
	// Logger receives errors; nothing is logged per request below debug.
	Logger *slog.Logger
	// Metrics records every request; nil records nothing.
	Metrics *tracker.Metrics
}

func (c Config) withDefaults() Config {
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 5 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 30 * time.Second
	}
	if c.MaxConns == 0 {
		c.MaxConns = 65536
	}
	if c.Acceptors == 0 {
		c.Acceptors = runtime.GOMAXPROCS(0)
	}
	if c.MaxRequestSize == 0 {
		c.MaxRequestSize = 8192
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Server serves announce and scrape over HTTP.
type Server struct {
	t       *tracker.Tracker
	cfg     Config
	proxies proxies
	srv     *fasthttp.Server
	states  sync.Pool

	// debug is whether the logger wants a line per request, decided once so
	// that the hot path pays nothing at the default level.
	debug bool
}

// state is the per-request scratch space, reused through a pool so that the
// announce path does not allocate.
type state struct {
	aq     announceQuery
	aresp  tracker.AnnounceResponse
	out    []byte
	hashes []tracker.InfoHash
	stats  []tracker.ScrapeStats
}

// New returns a frontend for t.
func New(t *tracker.Tracker, cfg Config) (*Server, error) {
	if t == nil {
		return nil, errors.New("httpfront: no tracker")
	}
	cfg = cfg.withDefaults()
	if cfg.MaxRequestSize < 1024 {
		return nil, fmt.Errorf("httpfront: max request size %d: must be at least 1024", cfg.MaxRequestSize)
	}
	s := &Server{t: t, cfg: cfg, proxies: proxies(cfg.TrustedProxies)}
	s.debug = cfg.Logger.Enabled(context.Background(), slog.LevelDebug)
	s.states.New = func() any { return &state{} }
	s.srv = &fasthttp.Server{
		Handler:                      s.Handle,
		Name:                         "bitorigin",
		Concurrency:                  cfg.MaxConns,
		ReadBufferSize:               cfg.MaxRequestSize,
		WriteBufferSize:              4096,
		ReadTimeout:                  cfg.ReadTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		IdleTimeout:                  cfg.IdleTimeout,
		MaxRequestBodySize:           1024,
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		Logger:                       fasthttpLogger{cfg.Logger},
		HeaderReceived:               bracketHost,
	}
	return s, nil
}

// bracketHost puts brackets around an IPv6 literal in the Host header that
// lacks them: libtorrent 2.0 announces to http://[::1]:6969/announce with
// "Host: ::1:6969", which fasthttp refuses as a bad request before any
// handler runs. It costs nothing for every other host.
func bracketHost(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	host := h.Host()
	if len(host) == 0 || host[0] == '[' || bytes.Count(host, []byte{':'}) < 2 {
		return fasthttp.RequestConfig{}
	}
	i := bytes.LastIndexByte(host, ':')
	ip, err := netip.ParseAddr(string(host[:i]))
	if err != nil || !ip.Is6() {
		// Not "address:port": maybe a bare IPv6 address, or junk that
		// fasthttp refuses as before.
		if ip, err := netip.ParseAddr(string(host)); err == nil && ip.Is6() {
			h.SetHost("[" + ip.String() + "]")
		}
		return fasthttp.RequestConfig{}
	}
	h.SetHost("[" + ip.String() + "]" + string(host[i:]))
	return fasthttp.RequestConfig{}
}

// Serve accepts connections on ln until Shutdown. Open ln yourself (for
// example net.Listen("tcp", ":6969")) to serve IPv4 and IPv6 on one port.
func (s *Server) Serve(ln net.Listener) error {
	return serveInline(s.srv, ln, s.cfg.Acceptors)
}

// Shutdown stops accepting connections and waits, up to ctx's deadline, for
// requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.srv.ShutdownWithContext(ctx)
}

var (
	contentType  = []byte("text/plain")
	pathAnnounce = []byte("/announce")
	pathScrape   = []byte("/scrape")
)

// Handle serves one request. It is exported so tests and benchmarks can call
// it without a network.
func (s *Server) Handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	var announce bool
	switch {
	case bytes.Equal(path, pathAnnounce):
		announce = true
	case bytes.Equal(path, pathScrape):
	default:
		ctx.Error("404 page not found: this tracker serves /announce and /scrape\n", fasthttp.StatusNotFound)
		return
	}
	if !ctx.IsGet() {
		ctx.Response.Header.Set("Allow", "GET")
		ctx.Error("405 method not allowed: use GET\n", fasthttp.StatusMethodNotAllowed)
		return
	}
	if s.cfg.StoreWaits {
		if c, ok := ctx.Conn().(resigner); ok {
			c.resign()
		}
	}
	st := s.states.Get().(*state)
	st.out = st.out[:0]
	start := time.Now()
	var err error
	if announce {
		st.out, err = s.announce(ctx, st)
		s.cfg.Metrics.Request(tracker.ProtoHTTP, tracker.ActionAnnounce, tracker.ResultOf(err), time.Since(start))
	} else {
		st.out, err = s.scrape(ctx, st)
		s.cfg.Metrics.Request(tracker.ProtoHTTP, tracker.ActionScrape, tracker.ResultOf(err), time.Since(start))
	}
	ctx.Response.Header.SetContentTypeBytes(contentType)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(st.out)
	s.states.Put(st)
}

// announce answers an announce; the error, if any, is what the answer's
// failure reason reports.
func (s *Server) announce(ctx *fasthttp.RequestCtx, st *state) ([]byte, error) {
	ip, trusted := s.proxies.clientIP(ctx)
	q := &st.aq
	if err := q.parse(ctx.URI().QueryString(), trusted); err != nil {
		return s.failure(st.out, err), err
	}
	if q.ip.IsValid() {
		ip = q.ip
	}
	if !ip.IsValid() {
		return s.failure(st.out, tracker.ErrBadIP), tracker.ErrBadIP
	}
	q.req.Addr = netip.AddrPortFrom(ip, q.port)
	st.aresp.Reset()
	err := s.t.Announce(ctx, &q.req, &st.aresp)
	peers := len(st.aresp.Swarm.Peers) / tracker.CompactSize(ip)
	if s.debug {
		s.cfg.Logger.Debug("announce", "info_hash", q.req.InfoHash.String(), "addr", q.req.Addr.String(),
			"event", q.req.Event.String(), "left", q.req.Left, "numwant", q.req.NumWant,
			"peers", peers, "err", err)
	}
	if err != nil {
		return s.failure(st.out, err), err
	}
	s.cfg.Metrics.Peers(tracker.ProtoHTTP, peers)
	return appendAnnounce(st.out, &st.aresp, q.compact, !ip.Is4(), q.req.WantPeerIDs), nil
}

// scrape answers a scrape, or a full scrape when no info_hash is given.
func (s *Server) scrape(ctx *fasthttp.RequestCtx, st *state) ([]byte, error) {
	st.hashes = st.hashes[:0]
	raw := ctx.URI().QueryString()
	limit := s.t.Config().ScrapeMax
	var scratch [64]byte
	for len(raw) > 0 {
		var k, v []byte
		k, v, raw = nextParam(raw)
		if string(k) != "info_hash" {
			continue
		}
		val, err := unescape(scratch[:0], v)
		if err != nil {
			return s.failure(st.out, err), err
		}
		if len(val) != 20 {
			return s.failure(st.out, tracker.ErrBadInfoHash), tracker.ErrBadInfoHash
		}
		if len(st.hashes) >= limit {
			return s.failure(st.out, tracker.ErrTooManyInfoHash), tracker.ErrTooManyInfoHash
		}
		st.hashes = append(st.hashes, tracker.InfoHash(val))
	}
	if len(st.hashes) == 0 {
		return s.fullScrape(ctx, st)
	}
	// Bencode wants the files dictionary's keys sorted and unique.
	slices.SortFunc(st.hashes, func(a, b tracker.InfoHash) int { return bytes.Compare(a[:], b[:]) })
	st.hashes = slices.Compact(st.hashes)
	st.stats = slices.Grow(st.stats[:0], len(st.hashes))[:len(st.hashes)]
	if err := s.t.Scrape(ctx, st.hashes, st.stats); err != nil {
		return s.failure(st.out, err), err
	}
	return appendScrape(st.out, st.hashes, st.stats), nil
}

func (s *Server) fullScrape(ctx *fasthttp.RequestCtx, st *state) ([]byte, error) {
	st.hashes, st.stats = st.hashes[:0], st.stats[:0]
	err := s.t.FullScrape(ctx, func(h tracker.InfoHash, stats tracker.ScrapeStats) {
		st.hashes = append(st.hashes, h)
		st.stats = append(st.stats, stats)
	})
	if err != nil {
		return s.failure(st.out, err), err
	}
	idx := make([]int, len(st.hashes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return bytes.Compare(st.hashes[a][:], st.hashes[b][:]) })
	out := appendScrapeStart(st.out)
	for _, i := range idx {
		out = appendScrapeFile(out, st.hashes[i], st.stats[i])
	}
	return appendScrapeEnd(out), nil
}

// failure writes err as a bencoded failure reason. Errors that are not
// tracker.Failure values are internal: the client sees only that the tracker
// is unavailable; the tracker logs the cause once per burst.
func (s *Server) failure(out []byte, err error) []byte {
	var f tracker.Failure
	if errors.As(err, &f) {
		return appendFailure(out, string(f))
	}
	return appendFailure(out, string(tracker.ErrUnavailable))
}

// fasthttpLogger sends fasthttp's own messages (connection errors) to slog
// at debug level: at the default level they would be one line per bad
// client.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	if f.l.Enabled(context.Background(), slog.LevelDebug) {
		f.l.Debug(fmt.Sprintf(format, args...))
	}
}
