// Package peer is one peer connection of the seeder: its handshakes
// (plain, or MSE first), the read loop that judges the peer's messages,
// the request queue and the writer that serves blocks from disk.
//
// A connection knows its torrent through a Torrent, which the seeder
// builds, and tells the torrent's swarm what the peer does through the
// Torrent's functions; who holds an upload slot, which pieces to offer
// and what to tell in peer exchange are decided elsewhere and carried
// out through Conn's methods (SetChoked, Offer, SendPex, SendHaves).
package peer

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
)

// MetadataID is our extended message ID for ut_metadata (BEP 9): peers
// send requests with it.
const MetadataID = 1

// PexID is the extended message ID we receive ut_pex with (BEP 11). We
// read nothing from peers' messages: the origin does not look for peers.
const PexID = 2

// ErrShutdown ends the connections when the seeder stops.
var ErrShutdown = errors.New("seeder shutting down")

// Conn is one peer connection. The reader goroutine (the one that runs
// Run) reads and judges messages; the writer goroutine sends what they
// lead to: control messages first, then blocks, one request at a time.
type Conn struct {
	cfg *Config
	t   *Torrent
	// infoHash is the hash of t this connection uses: the one the peer
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
	// sending is set while the writer serves a batch it took from queue,
	// until its blocks are written (Busy).
	sending bool
	// busy is what Busy reported when cfg.Uplink last counted the
	// connection: noteBusy follows every change to err, sending or queue.
	busy bool
	// offered is what the torrent's offload policy revealed to the peer,
	// the only pieces it may request; nil when offload is off.
	offered *bitfield.Bitfield
	out     []byte // encoded control messages waiting for the writer
	choked  bool   // as the peer sees it, once out is sent
	bad     int
	err     error // why the connection closed; set once
	// interested is the peer's interest as it last said; the pacer and
	// its timer decide when the swarm hears of it.
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

func newConn(cfg *Config, nc net.Conn, outgoing bool) *Conn {
	ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return &Conn{
		cfg:      cfg,
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

// ID is the connection's ID, which its torrent's Register gave it.
func (c *Conn) ID() uint64 { return c.id }

// Addr is the peer's address, as the connection sees it.
func (c *Conn) Addr() netip.AddrPort { return c.addr }

// Outgoing reports whether we opened the connection.
func (c *Conn) Outgoing() bool { return c.outgoing }

// PeerID is the peer's ID, from its handshake.
func (c *Conn) PeerID() [20]byte { return c.peerID }

// Torrent is the torrent the connection serves.
func (c *Conn) Torrent() *Torrent { return c.t }

// handshake builds our handshake for c's torrent, with the info hash c
// uses: a peer that sent a hybrid's v2 hash gets the v2 hash back.
func (c *Conn) handshake() peerwire.Handshake {
	h := peerwire.Handshake{InfoHash: c.infoHash, PeerID: c.cfg.PeerID}
	h.Reserved.SetFast()
	h.Reserved.SetExtended()
	if c.cfg.DHT != nil {
		h.Reserved.SetDHT()
	}
	if c.t.V2 {
		h.Reserved.SetV2() // BEP 52: we answer hash requests
	}
	return h
}

// Accept runs the handshake of a connection a peer opened: the info hash
// in its handshake picks the torrent through find, and an unknown one
// (find returns nil) ends it at once. Shutdown (ctx) does not wait for
// the handshake timeout. On error nc is closed.
func Accept(ctx context.Context, cfg *Config, nc net.Conn, find func(metainfo.InfoHash) *Torrent) (*Conn, error) {
	c := newConn(cfg, nc, false)
	nc.SetDeadline(time.Now().Add(cfg.HandshakeTimeout))
	// Run watches ctx once the handshake is done.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	fail := func(err error) (*Conn, error) {
		cfg.Logger.Debug("handshake failed", "peer", c.addr, "err", err)
		nc.Close()
		return nil, err
	}
	if err := c.acceptEncryption(); err != nil {
		return fail(err)
	}
	h, err := peerwire.ReadHandshakeStart(c.br)
	if err != nil {
		return fail(err)
	}
	t := find(h.InfoHash)
	if t == nil {
		cfg.Logger.Debug("unknown info hash", "peer", c.addr, "info_hash", fmt.Sprintf("%x", h.InfoHash))
		nc.Close()
		return nil, errUnknownTorrent
	}
	c.t, c.infoHash = t, h.InfoHash
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
		return fail(err)
	}
	return c, nil
}

// errUnknownTorrent ends a handshake for a torrent we do not serve.
var errUnknownTorrent = errors.New("unknown info hash")

// open runs the handshake of a connection we opened to a peer of t,
// which we greet with infoHash, after an MSE handshake when encrypt is
// set. On error nc is closed.
func open(ctx context.Context, cfg *Config, t *Torrent, infoHash metainfo.InfoHash, nc net.Conn, encrypt bool) (*Conn, error) {
	c := newConn(cfg, nc, true)
	c.t, c.infoHash = t, infoHash
	nc.SetDeadline(time.Now().Add(cfg.HandshakeTimeout))
	// Run watches ctx once the handshake is done.
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
		return nil, fmt.Errorf("handshake: %w", err)
	}
	c.peerID, c.fast, c.extended, c.dht = h.PeerID, h.Reserved.Fast(), h.Reserved.Extended(), h.Reserved.DHT()
	return c, nil
}

// Run serves a connection whose handshake is done, until it closes: its
// torrent's Register admits it, Started and Closed frame its life.
func (c *Conn) Run(ctx context.Context) {
	t := c.t
	id, err := t.Register(c)
	if err != nil {
		c.cfg.Logger.Debug("connection refused", "peer", c.addr, "name", t.Name, "err", err)
		c.nc.Close()
		return
	}
	c.id = id
	c.log = &slogger{c.cfg.Logger, c}
	c.log.debug("peer connected", "outgoing", c.outgoing, "fast", c.fast, "extended", c.extended,
		"client", clientName(c.peerID))
	c.sendIntro()
	c.sendPort()
	t.Started(c)
	var wg sync.WaitGroup
	wg.Go(c.writeLoop)
	stop := context.AfterFunc(ctx, func() { c.Close(ErrShutdown) })
	err = c.readLoop()
	stop()
	c.Close(err)
	wg.Wait()
	t.Closed(c)
	c.log.debug("peer disconnected", "err", c.err, "uploaded", c.uploaded)
}

// sendIntro queues what follows the handshake: our extension handshake and
// which pieces we have (BEP 3, BEP 6, BEP 10). Under offload we start with
// none: the policy reveals pieces with have messages once it knows the
// peer's, and we do not say upload only, or clients would not tell us
// what they gain. It takes no lock but c's: others hold theirs while they
// take c.mu.
func (c *Conn) sendIntro() {
	t := c.t
	port := c.cfg.ListenPort()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.extended {
		ip := c.addr.Addr()
		m := map[string]uint8{peerwire.MetadataExtension: MetadataID}
		if t.Pex {
			m[peerwire.PexExtension] = PexID
		}
		c.out = peerwire.ExtensionHandshake{
			M:            m,
			V:            c.cfg.Client,
			P:            port,
			ReqQ:         c.cfg.ReqQ,
			YourIP:       ip,
			MetadataSize: len(t.Metadata),
			UploadOnly:   !t.Offload,
		}.AppendTo(c.out)
	}
	if t.Offload {
		c.offered = bitfield.New(t.Pieces)
		if c.fast {
			c.out = peerwire.HaveNone{}.AppendTo(c.out)
		}
		c.signal()
		return
	}
	// The pieces served now; one that stops being served later is
	// rejected, as a bitfield cannot be taken back.
	switch n := t.Served.Len(); {
	case c.fast && n == t.Pieces:
		c.out = peerwire.HaveAll{}.AppendTo(c.out)
	case c.fast && n == 0:
		c.out = peerwire.HaveNone{}.AppendTo(c.out)
	case n > 0:
		c.out = peerwire.Bitfield{Bits: t.Served.Bitfield().Bytes()}.AppendTo(c.out)
	}
	c.signal()
}

// sendPort queues a port message with our DHT node's port for a peer
// that set the DHT bit (BEP 5), right after our pieces. Private torrents
// (BEP 27) stay off the DHT.
func (c *Conn) sendPort() {
	d := c.cfg.DHT
	if d == nil || !c.dht || c.t.Private {
		return
	}
	c.mu.Lock()
	c.out = peerwire.Port{Port: d.Port()}.AppendTo(c.out)
	c.mu.Unlock()
	c.signal()
}

// onPort hands the DHT node the node a peer's port message names, at the
// peer's IP, to be pinged into the routing table. Only from a peer that
// set the DHT bit, of a public torrent; the node bounds the pinging.
func (c *Conn) onPort(m *peerwire.Port) {
	if d := c.cfg.DHT; d != nil && c.dht && !c.t.Private {
		d.Introduce(netip.AddrPortFrom(c.addr.Addr(), m.Port))
	}
}

// signal wakes the writer.
func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Close ends the connection, recording why; later calls do nothing.
func (c *Conn) Close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if err == nil {
		err = io.EOF
	}
	c.err = err
	c.noteBusy()
	close(c.done)
	if c.interestTimer != nil {
		c.interestTimer.Stop()
	}
	c.mu.Unlock()
	c.nc.Close()
}

// Interested is the peer's interest as it last said.
func (c *Conn) Interested() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interested
}

// InterestHeld reports whether a change of the peer's interest waits for
// the pacer before its torrent hears of it (see InterestInterval).
func (c *Conn) InterestHeld() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pacer.scheduled
}

// onInterest records the peer's interest and tells the torrent, at once or
// when the pacer says (see InterestInterval).
func (c *Conn) onInterest(interested bool) {
	c.mu.Lock()
	c.interested = interested
	apply, wait := c.pacer.change(time.Now())
	if wait > 0 && c.err == nil {
		// Stopped by close; the connection owns it.
		c.interestTimer = time.AfterFunc(wait, c.flushInterest)
	}
	c.mu.Unlock()
	if apply {
		c.t.Interest(c)
	}
}

// flushInterest tells the torrent the peer's latest interest, when the
// pacer held a change back.
func (c *Conn) flushInterest() {
	c.mu.Lock()
	c.pacer.flushed(time.Now())
	c.mu.Unlock()
	c.t.Interest(c)
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
// besides room for a have message for every piece (SendHaves after a
// recheck queues those whatever the peer does). c.mu is held.
func (c *Conn) outFull() bool {
	return len(c.out) > maxOut+9*int(c.t.Pieces)
}

// readLoop reads and handles messages until the connection fails.
func (c *Conn) readLoop() error {
	r := peerwire.NewReader(c.br, peerwire.ReaderConfig{
		Pieces:   c.t.Pieces,
		MaxBlock: uint32(c.cfg.MaxRequest),
	})
	var deadline time.Time
	for {
		// Move the idle deadline at most once a second: it costs a timer
		// update, and requests come thousands a second.
		if now := time.Now(); now.Sub(deadline) > -c.cfg.IdleTimeout+time.Second {
			deadline = now.Add(c.cfg.IdleTimeout)
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
func (c *Conn) handle(m peerwire.Message) error {
	t := c.t
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
		if t.Offload {
			t.Bitfield(c, nil)
		}
	case *peerwire.Bitfield:
		b, err := bitfield.FromBytes(m.Bits, t.Pieces)
		if err != nil {
			return err
		}
		c.peerHave = b
		if b.All() {
			return errPeerIsSeed
		}
		if t.Offload {
			t.Bitfield(c, b)
		}
	case *peerwire.Have:
		if m.Index >= t.Pieces {
			return fmt.Errorf("have for piece %d of %d", m.Index, t.Pieces)
		}
		if c.peerHave == nil {
			c.peerHave = bitfield.New(t.Pieces)
		}
		c.peerHave.Set(m.Index)
		if t.Offload {
			// A leecher that completes stays: it holds every piece for
			// the others, which the policy must know.
			t.Have(c, m.Index)
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
func (c *Conn) onRequest(r *peerwire.Request) error {
	why := c.t.checkRequest(r, uint32(c.cfg.MaxRequest))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.outFull() {
		return errNotReading
	}
	switch {
	case why == requestMissing && c.t.Loaded.Has(r.Index):
		// Verified at load, so maybe in the bitfield this peer got, and
		// invalidated since (its file changed): not the peer's fault.
		c.reject(*r, RejectMissing)
		return nil
	case why == requestOK && c.offered != nil && !c.offered.Has(r.Index):
		// Not revealed to this peer (offload): no client asks for a piece
		// it was not told of, so it counts as bad, or a peer could ask
		// forever for what it may not have.
		why = requestNotOffered
	case why != requestOK:
	case c.choked:
		// Requests that crossed our choke on the wire are normal.
		c.reject(*r, RejectChoked)
		return nil
	case c.queue.len() >= c.cfg.ReqQ:
		why = requestOverflow
	default:
		c.queue.push(*r)
		c.noteBusy()
		c.signal()
		return nil
	}
	c.reject(*r, rejectReasonOf(why))
	c.bad++
	if c.bad == 1 || c.bad%50 == 0 {
		c.log.debug("bad request", "why", string(why), "index", r.Index, "begin", r.Begin, "length", r.Length, "count", c.bad)
	}
	if c.bad > c.cfg.MaxBadRequests {
		return fmt.Errorf("%w (%d, last: %s)", errTooManyBad, c.bad, why)
	}
	return nil
}

// reject answers a request we will not serve: a reject message under
// Fast (BEP 6), nothing otherwise; either way it is counted under why.
// c.mu is held.
func (c *Conn) reject(r peerwire.Request, why RejectReason) {
	c.cfg.Metrics.rejectedRequest(why)
	if c.fast {
		c.out = peerwire.Reject(r).AppendTo(c.out)
		c.signal()
	}
}

// onCancel drops a queued request. Under Fast the request still gets its
// one answer: a reject (BEP 6). One already being sent gets its block.
func (c *Conn) onCancel(r peerwire.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.queue.remove(r) {
		c.noteBusy()
		c.reject(r, RejectCancelled)
	}
}

// SetChoked chokes or unchokes the peer. Choking a Fast peer rejects every
// queued request, so each gets exactly one answer (BEP 6); without Fast the
// requests are dropped, as BEP 3 says.
func (c *Conn) SetChoked(choke bool) {
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
	c.noteBusy()
	c.signal()
}

// Busy reports whether the connection uses the origin's uplink now:
// requests wait in its queue, or the writer is reading or sending (or
// waiting for the rate limit to send) a batch of blocks. A closed
// connection is not busy.
func (c *Conn) Busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.busyNow()
}

// busyNow is Busy with c.mu held.
func (c *Conn) busyNow() bool { return c.err == nil && (c.sending || c.queue.len() > 0) }

// noteBusy brings busy, and the uplink's count with it, up to date after a
// change to err, sending or queue. c.mu is held.
func (c *Conn) noteBusy() {
	busy := c.busyNow()
	if busy == c.busy {
		return
	}
	c.busy = busy
	if u := c.cfg.Uplink; u != nil {
		if busy {
			u.busy.Add(1)
		} else {
			u.busy.Add(-1)
		}
	}
}

// Unchoked reports whether the peer holds an upload slot now: unchoked,
// and still connected.
func (c *Conn) Unchoked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.choked && c.err == nil
}

// rejectChoked rejects a queued request because we choked the peer.
// c.mu is held.
func (c *Conn) rejectChoked(r peerwire.Request) { c.reject(r, RejectChoked) }

// Offer reveals a piece to the peer with a have message, the offload
// policy's decision: from now on the peer may request it.
func (c *Conn) Offer(piece uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.offered != nil {
		c.offered.Set(piece)
		c.out = peerwire.Have{Index: piece}.AppendTo(c.out)
		c.signal()
	}
}

// SendHaves tells the peer of pieces served again after a recheck (BEP 3):
// a peer that connected while they were not served did not hear of them.
// Under offload, only those revealed to the peer.
func (c *Conn) SendHaves(pieces []uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	for _, i := range pieces {
		if c.offered == nil || c.offered.Has(i) {
			c.out = peerwire.Have{Index: i}.AppendTo(c.out)
		}
	}
	c.signal()
}

// SendPex queues a peer exchange message, unless the peer does not read
// what we send.
func (c *Conn) SendPex(m peerwire.Pex) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !c.outFull() {
		c.out = m.AppendTo(c.out)
		c.signal()
	}
}

// clientName is the client part of an Azureus-style peer ID, for logs.
func clientName(id [20]byte) string {
	if id[0] == '-' && id[7] == '-' {
		return string(id[1:7])
	}
	return fmt.Sprintf("%x", id[:8])
}
