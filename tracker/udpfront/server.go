// Package udpfront is the tracker's UDP frontend (BEP 15): connect, announce
// and scrape on one socket read by several goroutines, with stateless
// connection IDs so that replicas sharing a secret accept each other's.
package udpfront

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/udpwire"
)

// Config configures the UDP frontend. The zero value of a field means its
// default.
type Config struct {
	// Secret keys the connection-ID HMAC. Replicas behind one address need
	// the same secret. Default: random, good for a single process.
	Secret []byte
	// NumWantMax caps peers per answer so that it fits one datagram
	// (default 50: 320 bytes for IPv4, 920 for IPv6).
	NumWantMax int
	// Readers is the number of goroutines reading the socket (default
	// GOMAXPROCS).
	Readers int
	// Batch is the most packets a reader takes from the socket with one
	// system call and answers with one more, on Linux (recvmmsg and
	// sendmmsg); elsewhere readers take one packet at a time. A reader
	// answers its batch in order, so with a store whose every answer waits
	// on a round trip (Redis), set 1: a packet then waits for no other.
	// Default 16.
	Batch int
	// Logger receives unexpected socket errors.
	Logger *slog.Logger
	// Now is the clock for connection IDs (default time.Now).
	Now func() time.Time
	// Metrics records every answered request; nil records nothing.
	Metrics *tracker.Metrics
}

// MinSecretLen is the shortest secret accepted.
const MinSecretLen = 16

// maxBatch is the largest Config.Batch: Linux reads and writes at most
// 1024 (UIO_MAXIOV) messages per recvmmsg or sendmmsg.
const maxBatch = 1024

// Server answers UDP tracker requests.
type Server struct {
	t   *tracker.Tracker
	cfg Config
	wg  sync.WaitGroup
}

// New returns a UDP frontend for t.
func New(t *tracker.Tracker, cfg Config) (*Server, error) {
	if t == nil {
		return nil, errors.New("udpfront: no tracker")
	}
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		if _, err := rand.Read(cfg.Secret); err != nil {
			return nil, fmt.Errorf("udpfront: random secret: %w", err)
		}
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("udpfront: secret of %d bytes: need at least %d", len(cfg.Secret), MinSecretLen)
	}
	if cfg.NumWantMax == 0 {
		cfg.NumWantMax = 50
	}
	if cfg.NumWantMax < 0 || cfg.NumWantMax > 70 {
		return nil, fmt.Errorf("udpfront: numwant max %d: must be 0-70 so an IPv6 answer fits a 1280-byte packet", cfg.NumWantMax)
	}
	if cfg.Readers == 0 {
		cfg.Readers = runtime.GOMAXPROCS(0)
	}
	if cfg.Batch == 0 {
		cfg.Batch = 16
	}
	if cfg.Batch < 0 || cfg.Batch > maxBatch {
		return nil, fmt.Errorf("udpfront: batch %d: must be 1-%d", cfg.Batch, maxBatch)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{t: t, cfg: cfg}, nil
}

// Serve reads requests from conn with several goroutines until conn is
// closed; then it waits for them and returns nil. Open conn yourself
// (net.ListenPacket("udp", ":6969") serves IPv4 and IPv6).
func (s *Server) Serve(conn *net.UDPConn) error {
	for range s.cfg.Readers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(conn)
		}()
	}
	s.wg.Wait()
	return nil
}

// worker is one reader's reusable state, so that serving a packet does not
// allocate.
type worker struct {
	s      *Server
	ids    *connIDs
	in     []byte
	out    []byte
	areq   udpwire.AnnounceRequest
	treq   tracker.AnnounceRequest
	tresp  tracker.AnnounceResponse
	hashes [][20]byte
	thash  []tracker.InfoHash
	stats  []tracker.ScrapeStats
	ustats []udpwire.ScrapeStats
}

func (s *Server) newWorker() *worker {
	return &worker{s: s, ids: newConnIDs(s.cfg.Secret, s.cfg.Now), in: make([]byte, maxPacket), out: make([]byte, 0, maxPacket)}
}

// maxPacket is the size of every buffer for a request or an answer: no
// BEP 15 request comes near it, and an answer is capped (NumWantMax) to fit
// a 1280-byte packet.
const maxPacket = 2048

// readLoop reads and answers one packet at a time until conn is closed.
func (s *Server) readLoop(conn *net.UDPConn) {
	w := s.newWorker()
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(w.in)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.cfg.Logger.Warn("udp read", "err", err)
			continue
		}
		addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
		if reply := w.handle(w.in[:n], addr); len(reply) > 0 {
			// A failed write (the client went away) is nothing to act on.
			_, _ = conn.WriteToUDPAddrPort(reply, addr)
		}
	}
}

// Errors sent to clients. They are short so that the error for a bad
// connection ID fits in every request a BEP 15 client sends with one; handle
// drops a shorter request rather than answer it with more bytes than it had.
const (
	msgBadConnID = "bad connection id"
	msgMalformed = "malformed request"
)

// handle answers one packet in w.out, returning nil to drop it.
func (w *worker) handle(pkt []byte, from netip.AddrPort) []byte {
	return w.answer(w.out[:0], pkt, from)
}

// answer appends the answer to one packet to out, returning nil to drop
// the packet.
func (w *worker) answer(out, pkt []byte, from netip.AddrPort) []byte {
	h, err := udpwire.ParseHeader(pkt)
	if err != nil {
		return nil // too short to answer
	}
	start := time.Now()
	m := w.s.cfg.Metrics
	switch h.Action {
	case udpwire.ActionConnect:
		if udpwire.CheckConnectRequest(pkt, h) != nil {
			return nil
		}
		m.Request(tracker.ProtoUDP, tracker.ActionConnect, tracker.ResultOK, time.Since(start))
		return udpwire.AppendConnectResponse(out, h.TransactionID, w.ids.issue(from))
	case udpwire.ActionAnnounce, udpwire.ActionScrape:
	default:
		return nil
	}
	action := tracker.ActionAnnounce
	if h.Action == udpwire.ActionScrape {
		action = tracker.ActionScrape
	}
	if !w.ids.valid(from, h.ConnectionID) {
		// The source has not proved it receives at its address, so the
		// answer must not be larger than the packet. A BEP 15 client's
		// announce (98 bytes) or scrape (36 or more) always has room for
		// this error, which tells it to connect again; a shorter packet
		// is forged or broken and gets nothing (and, like every packet
		// dropped, is no answered request in the metrics).
		reply := udpwire.AppendError(out, h.TransactionID, msgBadConnID)
		if len(reply) > len(pkt) {
			return nil
		}
		m.Request(tracker.ProtoUDP, action, tracker.ResultClientError, time.Since(start))
		return reply
	}
	var reply []byte
	var failed error
	if action == tracker.ActionAnnounce {
		reply, failed = w.announce(pkt, from, out)
	} else {
		reply, failed = w.scrape(pkt, out)
	}
	m.Request(tracker.ProtoUDP, action, tracker.ResultOf(failed), time.Since(start))
	return reply
}

// errMalformed classifies a packet that did not parse as the client's error.
const errMalformed = tracker.Failure(msgMalformed)

func (w *worker) announce(pkt []byte, from netip.AddrPort, out []byte) ([]byte, error) {
	r := &w.areq
	if err := udpwire.ParseAnnounceRequest(pkt, r); err != nil {
		return udpwire.AppendError(out, r.TransactionID, msgMalformed), errMalformed
	}
	var ev tracker.Event
	switch r.Event {
	case udpwire.EventNone:
	case udpwire.EventCompleted:
		ev = tracker.EventCompleted
	case udpwire.EventStarted:
		ev = tracker.EventStarted
	case udpwire.EventStopped:
		ev = tracker.EventStopped
	default:
		return udpwire.AppendError(out, r.TransactionID, string(tracker.ErrBadEvent)), tracker.ErrBadEvent
	}
	if r.Port == 0 {
		return udpwire.AppendError(out, r.TransactionID, string(tracker.ErrBadPort)), tracker.ErrBadPort
	}
	if f := checkCounts(r); f != "" {
		return udpwire.AppendError(out, r.TransactionID, string(f)), f
	}
	numWant := int(r.NumWant)
	if numWant < 0 {
		numWant = -1
	}
	if numWant > w.s.cfg.NumWantMax || numWant < 0 && w.s.t.Config().NumWantDefault > w.s.cfg.NumWantMax {
		numWant = w.s.cfg.NumWantMax
	}
	// The IP field is ignored: over UDP the source address is the only
	// one the tracker can trust.
	w.treq = tracker.AnnounceRequest{
		InfoHash:   r.InfoHash,
		PeerID:     r.PeerID,
		Addr:       netip.AddrPortFrom(from.Addr(), r.Port),
		Event:      ev,
		Uploaded:   r.Uploaded,
		Downloaded: r.Downloaded,
		Left:       r.Left,
		Key:        r.Key,
		NumWant:    numWant,
	}
	w.tresp.Reset()
	if err := w.s.t.Announce(context.Background(), &w.treq, &w.tresp); err != nil {
		return udpwire.AppendError(out, r.TransactionID, failureText(err)), err
	}
	sw := &w.tresp.Swarm
	w.s.cfg.Metrics.Peers(tracker.ProtoUDP, len(sw.Peers)/tracker.CompactSize(from.Addr()))
	return udpwire.AppendAnnounceResponse(out, &udpwire.AnnounceResponse{
		TransactionID: r.TransactionID,
		Interval:      uint32(w.tresp.IntervalSeconds),
		Leechers:      clampU32(sw.Leechers),
		Seeders:       clampU32(sw.Seeders),
		Peers:         sw.Peers,
	}), nil
}

func (w *worker) scrape(pkt []byte, out []byte) ([]byte, error) {
	h, hashes, err := udpwire.ParseScrapeRequest(pkt, w.hashes[:0])
	w.hashes = hashes
	if err != nil {
		return udpwire.AppendError(out, h.TransactionID, msgMalformed), errMalformed
	}
	w.thash = w.thash[:0]
	for _, x := range hashes {
		w.thash = append(w.thash, tracker.InfoHash(x))
	}
	w.stats = slices.Grow(w.stats[:0], len(hashes))[:len(hashes)]
	if err := w.s.t.Scrape(context.Background(), w.thash, w.stats); err != nil {
		return udpwire.AppendError(out, h.TransactionID, failureText(err)), err
	}
	w.ustats = w.ustats[:0]
	for _, st := range w.stats {
		w.ustats = append(w.ustats, udpwire.ScrapeStats{Seeders: clampU32(st.Seeders), Completed: clampU32(st.Downloaded), Leechers: clampU32(st.Leechers)})
	}
	return udpwire.AppendScrapeResponse(out, h.TransactionID, w.ustats), nil
}

// checkCounts returns the failure for the first negative count of r, or "".
// BEP 15 sends them as signed 64-bit integers; none can be negative.
func checkCounts(r *udpwire.AnnounceRequest) tracker.Failure {
	switch {
	case r.Uploaded < 0:
		return tracker.ErrBadUploaded
	case r.Downloaded < 0:
		return tracker.ErrBadDownloaded
	case r.Left < 0:
		return tracker.ErrBadLeft
	}
	return ""
}

// failureText is what the client sees of an error: a tracker.Failure as it
// is, anything else as "temporarily unavailable".
func failureText(err error) string {
	var f tracker.Failure
	if errors.As(err, &f) {
		return string(f)
	}
	return string(tracker.ErrUnavailable)
}

func clampU32(n int) uint32 {
	if n < 0 {
		return 0
	}
	if n > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(n)
}
