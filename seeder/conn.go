package seeder

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/admission"
)

// Our extended message ID for ut_metadata: peers send requests with it.
const metadataID = 1

// conn is one peer connection. The reader goroutine (the one that runs
// run) reads and judges messages; the writer goroutine sends what they
// lead to: control messages first, then blocks, one request at a time.
type conn struct {
	s  *Seeder
	sw *swarm
	// infoHash is the hash of sw this connection uses: the one the peer
	// sent, or the one we dialled with (either of a hybrid's).
	infoHash metainfo.InfoHash
	nc       net.Conn
	br       *bufio.Reader
	addr     netip.AddrPort
	outgoing bool
	id       uint64
	peerID   [20]byte
	fast     bool
	extended bool
	dht      bool // the peer set the DHT bit (BEP 5)
	log      *slogger

	// peerMetadataID is the ID the peer gave ut_metadata; 0 when it does
	// not want it. Reader goroutine only.
	peerMetadataID uint8
	// peerHave tracks the peer's pieces, to drop a peer that becomes a
	// seed. Reader goroutine only.
	peerHave *bitfield.Bitfield

	mu    sync.Mutex // guards what follows
	queue requestQueue
	// offered is what the torrent's offload policy revealed to the peer,
	// the only pieces it may request; nil when offload is off.
	offered *bitfield.Bitfield
	out     []byte // encoded control messages waiting for the writer
	choked  bool   // as the peer sees it, once out is sent
	bad     int
	err     error // why the connection closed; set once
	// interested is the peer's interest as it last said; the pacer and
	// its timer decide when the choker hears of it.
	interested    bool
	pacer         interestPacer
	interestTimer *time.Timer
	wake          chan struct{}
	done          chan struct{}

	// Writer goroutine only.
	w         *peerwire.Writer
	spare     []byte
	batch     []peerwire.Request
	buf       []byte      // blocks of a batch
	hdrs      []byte      // piece headers of a batch
	iov       [][]byte    // headers and blocks, for one writev
	bufs      net.Buffers // consumed by WriteTo; kept to avoid an allocation
	lastWrite time.Time
	deadline  time.Time // the write deadline last set
	timer     *time.Timer
	uploaded  int64
	// delivered counts the bytes sent of each offered piece not yet sent
	// whole (offload only).
	delivered map[uint32]uint32
}

func (s *Seeder) newConn(nc net.Conn, outgoing bool) *conn {
	ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return &conn{
		s:        s,
		nc:       nc,
		br:       bufio.NewReaderSize(nc, 4<<10),
		addr:     ap,
		outgoing: outgoing,
		choked:   true,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		w:        peerwire.NewWriter(nc),
	}
}

// handshake builds our handshake for c's torrent, with the info hash c
// uses: a peer that sent a hybrid's v2 hash gets the v2 hash back.
func (c *conn) handshake() peerwire.Handshake {
	h := peerwire.Handshake{InfoHash: c.infoHash, PeerID: c.s.peerID}
	h.Reserved.SetFast()
	h.Reserved.SetExtended()
	if c.s.cfg.DHT != nil {
		h.Reserved.SetDHT()
	}
	if c.sw.Meta.Info.HasV2() {
		h.Reserved.SetV2() // BEP 52: we answer hash requests
	}
	return h
}

// handleIncoming runs a connection a peer opened: the info hash in its
// handshake picks the torrent, and an unknown one ends it at once.
// The gate admitted it as id.
func (s *Seeder) handleIncoming(ctx context.Context, nc net.Conn, id admission.ID) {
	defer s.incomingClosed(id)
	c := s.newConn(nc, false)
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	// Shutdown does not wait for the handshake timeout; run watches ctx
	// once the handshake is done.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	if err := c.acceptEncryption(); err != nil {
		s.log.Debug("handshake failed", "peer", c.addr, "err", err)
		nc.Close()
		return
	}
	h, err := peerwire.ReadHandshakeStart(c.br)
	if err != nil {
		s.log.Debug("handshake failed", "peer", c.addr, "err", err)
		nc.Close()
		return
	}
	sw := s.swarm(h.InfoHash)
	if sw == nil {
		s.log.Debug("unknown info hash", "peer", c.addr, "info_hash", fmt.Sprintf("%x", h.InfoHash))
		nc.Close()
		return
	}
	c.sw, c.infoHash = sw, h.InfoHash
	c.fast, c.extended, c.dht = h.Reserved.Fast(), h.Reserved.Extended(), h.Reserved.DHT()
	// Ours goes first: some clients send their peer ID only after seeing it.
	err = c.w.WriteHandshake(c.handshake())
	if err == nil {
		err = c.w.Flush()
	}
	if err == nil {
		c.peerID, err = peerwire.ReadPeerID(c.br)
	}
	if err != nil {
		s.log.Debug("handshake failed", "peer", c.addr, "err", err)
		nc.Close()
		return
	}
	if !s.handshakeDone(id) {
		// Evicted just before: the gate gave its place away.
		nc.Close()
		return
	}
	stop()
	c.run(ctx)
}

// handleOutgoing runs a connection we opened to a peer of sw, which we
// greet with infoHash, after an MSE handshake when encrypt is set.
func (s *Seeder) handleOutgoing(ctx context.Context, sw *swarm, infoHash metainfo.InfoHash, nc net.Conn, encrypt bool) error {
	c := s.newConn(nc, true)
	c.sw, c.infoHash = sw, infoHash
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	// Shutdown does not wait for the handshake timeout; run watches ctx
	// once the handshake is done.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	var err error
	if encrypt {
		err = c.initiateEncryption()
	}
	if err == nil {
		err = c.w.WriteHandshake(c.handshake())
	}
	if err == nil {
		err = c.w.Flush()
	}
	var h peerwire.Handshake
	if err == nil {
		h, err = peerwire.ReadHandshake(c.br)
	}
	if err == nil && h.InfoHash != infoHash {
		err = fmt.Errorf("peer answered with info hash %x", h.InfoHash)
	}
	if err != nil {
		nc.Close()
		return fmt.Errorf("handshake: %w", err)
	}
	c.peerID, c.fast, c.extended, c.dht = h.PeerID, h.Reserved.Fast(), h.Reserved.Extended(), h.Reserved.DHT()
	stop()
	c.run(ctx)
	return nil
}

// run serves a connection whose handshake is done, until it closes.
func (c *conn) run(ctx context.Context) {
	s := c.s
	if err := s.register(c); err != nil {
		s.log.Debug("connection refused", "peer", c.addr, "name", c.sw.Name(), "err", err)
		c.nc.Close()
		return
	}
	c.log = &slogger{s.log, c}
	c.log.debug("peer connected", "outgoing", c.outgoing, "fast", c.fast, "extended", c.extended,
		"client", clientName(c.peerID))
	c.sendIntro()
	c.sendPort()
	if o := c.sw.offload; o != nil {
		o.add(c)
		defer o.remove(c)
	}
	if p := c.sw.pex; p != nil {
		p.add(c)
		defer p.remove(c)
	}
	var wg sync.WaitGroup
	wg.Go(c.writeLoop)
	stop := context.AfterFunc(ctx, func() { c.close(errShutdown) })
	err := c.readLoop()
	stop()
	c.close(err)
	wg.Wait()
	s.unregister(c)
	c.log.debug("peer disconnected", "err", c.err, "uploaded", c.uploaded)
}

// sendIntro queues what follows the handshake: our extension handshake and
// which pieces we have (BEP 3, BEP 6, BEP 10). Under offload we start with
// none: the policy reveals pieces with have messages once it knows the
// peer's, and we do not say upload only, or clients would not tell us
// what they gain.
func (c *conn) sendIntro() {
	port := c.s.listenPort()
	offload := c.sw.offload != nil
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.extended {
		ip := c.addr.Addr()
		m := map[string]uint8{peerwire.MetadataExtension: metadataID}
		if c.sw.pex != nil {
			m[peerwire.PexExtension] = pexID
		}
		c.out = peerwire.ExtensionHandshake{
			M:            m,
			V:            c.s.clientV,
			P:            port,
			ReqQ:         c.s.cfg.ReqQ,
			YourIP:       ip,
			MetadataSize: len(c.sw.metadata),
			UploadOnly:   !offload,
		}.AppendTo(c.out)
	}
	if offload {
		c.offered = bitfield.New(c.sw.numPieces)
		if c.fast {
			c.out = peerwire.HaveNone{}.AppendTo(c.out)
		}
		c.signal()
		return
	}
	// The pieces served now; one that stops being served later is
	// rejected, as a bitfield cannot be taken back.
	switch n := c.sw.Verified(); {
	case c.fast && n == c.sw.numPieces:
		c.out = peerwire.HaveAll{}.AppendTo(c.out)
	case c.fast && n == 0:
		c.out = peerwire.HaveNone{}.AppendTo(c.out)
	case n > 0:
		c.out = peerwire.Bitfield{Bits: c.sw.verified.bitfield().Bytes()}.AppendTo(c.out)
	}
	c.signal()
}

// listenPort is the port peers and trackers should reach us on. It takes
// no lock: a new connection calls it while others hold s.mu.
func (s *Seeder) listenPort() uint16 {
	if s.cfg.AnnouncePort != 0 {
		return s.cfg.AnnouncePort
	}
	return uint16(s.port.Load())
}

// signal wakes the writer.
func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close ends the connection, recording why; later calls do nothing.
func (c *conn) close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if err == nil {
		err = io.EOF
	}
	c.err = err
	close(c.done)
	if c.interestTimer != nil {
		c.interestTimer.Stop()
	}
	c.mu.Unlock()
	c.nc.Close()
}

// onInterest records the peer's interest and tells the choker, at once or
// when the pacer says (see interestInterval).
func (c *conn) onInterest(interested bool) {
	c.mu.Lock()
	c.interested = interested
	apply, wait := c.pacer.change(time.Now())
	if wait > 0 && c.err == nil {
		// Stopped by close; the connection owns it.
		c.interestTimer = time.AfterFunc(wait, c.flushInterest)
	}
	c.mu.Unlock()
	if apply {
		c.s.setInterested(c)
	}
}

// flushInterest tells the choker the peer's latest interest, when the
// pacer held a change back.
func (c *conn) flushInterest() {
	c.mu.Lock()
	c.pacer.flushed(time.Now())
	c.mu.Unlock()
	c.s.setInterested(c)
}

// errTooManyBad ends a connection that keeps sending bad requests.
var errTooManyBad = errors.New("too many bad requests")

// errPeerIsSeed ends a connection to a peer that has every piece.
var errPeerIsSeed = errors.New("peer is a seed")

// maxOut bounds the control messages waiting for the writer. Metadata
// pieces and rejects are queued as the peer asks; one that keeps asking
// without reading would otherwise grow c.out without bound until the
// write timeout, 16 KiB for each 40-byte metadata request.
const maxOut = 1 << 20

// errNotReading ends a connection whose peer asks faster than it reads.
var errNotReading = errors.New("peer does not read what it asks for")

// outFull reports whether more than maxOut bytes of control messages wait,
// besides room for a have message for every piece (sendHaves after a
// recheck queues those whatever the peer does). c.mu is held.
func (c *conn) outFull() bool {
	return len(c.out) > maxOut+9*int(c.sw.numPieces)
}

// readLoop reads and handles messages until the connection fails.
func (c *conn) readLoop() error {
	s := c.s
	r := peerwire.NewReader(c.br, peerwire.ReaderConfig{
		Pieces:   c.sw.numPieces,
		MaxBlock: uint32(s.cfg.MaxRequest),
	})
	var deadline time.Time
	for {
		// Move the idle deadline at most once a second: it costs a timer
		// update, and requests come thousands a second.
		if now := time.Now(); now.Sub(deadline) > -s.cfg.IdleTimeout+time.Second {
			deadline = now.Add(s.cfg.IdleTimeout)
			if err := c.nc.SetReadDeadline(deadline); err != nil {
				return err
			}
		}
		m, err := r.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.handle(m); err != nil {
			return err
		}
	}
}

// handle acts on one message from the peer.
func (c *conn) handle(m peerwire.Message) error {
	switch m := m.(type) {
	case *peerwire.Request:
		return c.onRequest(m)
	case *peerwire.Cancel:
		c.onCancel(peerwire.Request(*m))
	case *peerwire.Interested:
		c.onInterest(true)
	case *peerwire.NotInterested:
		c.onInterest(false)
	case *peerwire.HaveAll:
		return errPeerIsSeed
	case *peerwire.HaveNone:
		if o := c.sw.offload; o != nil {
			o.bitfield(c, nil)
		}
	case *peerwire.Bitfield:
		b, err := bitfield.FromBytes(m.Bits, c.sw.numPieces)
		if err != nil {
			return err
		}
		c.peerHave = b
		if b.All() {
			return errPeerIsSeed
		}
		if o := c.sw.offload; o != nil {
			o.bitfield(c, b)
		}
	case *peerwire.Have:
		if m.Index >= c.sw.numPieces {
			return fmt.Errorf("have for piece %d of %d", m.Index, c.sw.numPieces)
		}
		if c.peerHave == nil {
			c.peerHave = bitfield.New(c.sw.numPieces)
		}
		c.peerHave.Set(m.Index)
		if o := c.sw.offload; o != nil {
			// A leecher that completes stays: it holds every piece for
			// the others, which the policy must know.
			o.have(c, m.Index)
			return nil
		}
		if c.peerHave.All() {
			return errPeerIsSeed
		}
	case *peerwire.Extended:
		return c.onExtended(m)
	case *peerwire.HashRequest:
		return c.onHashRequest(m)
	case *peerwire.Port:
		c.onPort(m)
	}
	// Choke, unchoke, piece (we never request), suggest, allowed
	// fast, reject, hashes and hash reject (we never ask), keep-alive and
	// unknown messages need nothing from a seed (BEP 3 says to ignore
	// unknown ones).
	return nil
}

// onRequest queues a good request; a bad one is rejected (Fast) or
// ignored, and counted.
func (c *conn) onRequest(r *peerwire.Request) error {
	why := c.sw.checkRequest(r, uint32(c.s.cfg.MaxRequest))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outFull() {
		return errNotReading
	}
	switch {
	case why == requestMissing && c.sw.Have.Has(r.Index):
		// Verified at load, so maybe in the bitfield this peer got, and
		// invalidated since (its file changed): not the peer's fault.
		c.reject(*r, rejectMissing)
		return nil
	case why == requestOK && c.offered != nil && !c.offered.Has(r.Index):
		// Not revealed to this peer (offload): no client asks for a piece
		// it was not told of, so it counts as bad, or a peer could ask
		// forever for what it may not have.
		why = requestNotOffered
	case why != requestOK:
	case c.choked:
		// Requests that crossed our choke on the wire are normal.
		c.reject(*r, rejectChoked)
		return nil
	case c.queue.len() >= c.s.cfg.ReqQ:
		why = requestOverflow
	default:
		c.queue.push(*r)
		c.signal()
		return nil
	}
	c.reject(*r, rejectReasonOf(why))
	c.bad++
	if c.bad == 1 || c.bad%50 == 0 {
		c.log.debug("bad request", "why", string(why), "index", r.Index, "begin", r.Begin, "length", r.Length, "count", c.bad)
	}
	if c.bad > c.s.cfg.MaxBadRequests {
		return fmt.Errorf("%w (%d, last: %s)", errTooManyBad, c.bad, why)
	}
	return nil
}

// reject answers a request we will not serve: a reject message under
// Fast (BEP 6), nothing otherwise; either way it is counted under why.
// c.mu is held.
func (c *conn) reject(r peerwire.Request, why rejectReason) {
	c.s.metrics.rejectedRequest(why)
	if c.fast {
		c.out = peerwire.Reject(r).AppendTo(c.out)
		c.signal()
	}
}

// onCancel drops a queued request. Under Fast the request still gets its
// one answer: a reject (BEP 6). One already being sent gets its block.
func (c *conn) onCancel(r peerwire.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queue.remove(r) {
		c.reject(r, rejectCancelled)
	}
}

// setChoked chokes or unchokes the peer. Choking a Fast peer rejects every
// queued request, so each gets exactly one answer (BEP 6); without Fast the
// requests are dropped, as BEP 3 says.
func (c *conn) setChoked(choke bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.choked == choke || c.err != nil {
		return
	}
	c.choked = choke
	if !choke {
		c.out = peerwire.Unchoke{}.AppendTo(c.out)
		c.signal()
		return
	}
	c.out = peerwire.Choke{}.AppendTo(c.out)
	c.queue.drain(c.rejectChoked)
	c.signal()
}

// rejectChoked rejects a queued request because we choked the peer.
// c.mu is held.
func (c *conn) rejectChoked(r peerwire.Request) { c.reject(r, rejectChoked) }

// clientName is the client part of an Azureus-style peer ID, for logs.
func clientName(id [20]byte) string {
	if id[0] == '-' && id[7] == '-' {
		return string(id[1:7])
	}
	return fmt.Sprintf("%x", id[:8])
}
