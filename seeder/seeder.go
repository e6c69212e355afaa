// Package seeder is the origin seeder: it serves the pieces of many
// torrents to BitTorrent peers on one listening port, dials the leechers
// its trackers name, and announces every torrent.
//
// New and Serve serve torrents that package content prepared (finding or
// creating each .torrent and verifying the data). Add and Remove change
// the set while serving; package catalogue does so as entries appear in
// and vanish from a watched content folder. Package webseed serves the
// same files over HTTP (BEP 19).
package seeder

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/ratelimit"
	"github.com/bitorigin/bitorigin/seeder/admission"
	"github.com/bitorigin/bitorigin/seeder/choker"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/peer"
	"github.com/bitorigin/bitorigin/seeder/swarm"
)

// peerIDPrefix is our client's Azureus-style peer ID prefix.
const peerIDPrefix = "-BO0001-"

// offloadTick is how often the offload policies look for peers whose
// bitfield never came and for stalled leechers; pexTick how often the
// peer exchanges are asked for due messages.
const (
	offloadTick = 250 * time.Millisecond
	pexTick     = 500 * time.Millisecond
)

// Seeder serves a set of torrents, given to New and changed by Add and
// Remove.
type Seeder struct {
	cfg    Config
	log    *slog.Logger
	peerID [20]byte
	// torrents, byName and list are guarded by mu; list is never modified
	// in place, so a copy of the slice taken under mu stays valid.
	// torrents has every info hash of a torrent (both of a hybrid) lead
	// to its one swarm.
	torrents map[metainfo.InfoHash]*seeded
	byName   map[string]*seeded
	list     []*seeded
	metrics  *Metrics
	// peerCfg is what every connection shares.
	peerCfg *peer.Config
	// clients are the tracker clients shared by every torrent's announce
	// loop, so that a UDP tracker's connection ID serves all of them.
	clients     map[string]announcer.Client
	clientsOnce sync.Once
	// port is our listening port, once Serve runs. Atomic, so that a new
	// connection reads it without the seeder's lock.
	port atomic.Uint32
	// families are the address families announced over, set by Serve
	// before any announce loop starts.
	families []announcer.Family

	// slots are the upload slots and every registered connection; their
	// lock is their own.
	slots *slots

	// mu guards what follows: the registry of torrents and the limits
	// that span them. Lock order: mu, then a swarm's lock (package swarm)
	// or the slots' (never both); any of these, then a connection's.
	// Nothing a peer says once connected takes mu.
	mu     sync.Mutex
	nextID uint64
	closed bool
	// dialing counts dials not yet connected, outgoing the connections we
	// opened or are opening (the sum of the swarms' dials); dialCtx is
	// Serve's context, which the dials run under (nil before Serve).
	dialing  int
	outgoing int
	dialCtx  context.Context
	// gate decides on incoming connections and counts them from accept to
	// close; shaking holds those still in their handshake, to close one
	// the gate evicts.
	gate    *admission.Gate
	shaking map[admission.ID]net.Conn

	wg sync.WaitGroup // every goroutine of Serve
	// announcers are the torrents' registration and announce loops.
	announcers sync.WaitGroup
	// registering bounds the registrations in flight.
	registering chan struct{}
	// rechecks are the torrents with pieces to verify again, in order
	// (guarded by mu); recheckWake tells the recheck loop.
	rechecks    []*seeded
	recheckWake chan struct{}
}

// seeded is a torrent the seeder serves: the Torrent, its swarm (the
// peers, with their own lock) and what announces and rechecks it.
type seeded struct {
	*content.Torrent
	// peer is the torrent as its connections see it.
	peer *peer.Torrent
	// swarm are its peers.
	swarm *swarm.Swarm

	// Guarded by Seeder.mu.
	// queued is set while sw waits in Seeder.rechecks.
	queued bool
	// stopAnnounce ends the announce loop, which closes announced; nil
	// before Serve starts it.
	stopAnnounce context.CancelFunc
	announced    chan struct{}

	// announcedOver maps address families to the tracker that last
	// answered over each, for Status.
	announcedMu   sync.Mutex
	announcedOver map[string]string

	// active counts the registered connections, which read the storage.
	active sync.WaitGroup
}

// New returns a Seeder of torrents. It takes over the torrents: Serve
// closes them.
func New(cfg Config, torrents []*content.Torrent) (*Seeder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ch, err := choker.New(choker.Config{Slots: cfg.UploadSlots, Term: 3 * cfg.RechokeInterval,
		OptimisticTerm: 3 * cfg.RechokeInterval}, mrand.IntN)
	if err != nil {
		return nil, err
	}
	gate, err := admission.New(admission.Config{MaxConns: cfg.MaxConns, MaxPerSource: cfg.MaxConnsPerIP,
		Exempt: cfg.ConnLimitExempt})
	if err != nil {
		return nil, err
	}
	s := &Seeder{
		cfg:      cfg,
		gate:     gate,
		shaking:  make(map[admission.ID]net.Conn),
		log:      cfg.Logger,
		peerID:   cfg.PeerID,
		torrents: make(map[metainfo.InfoHash]*seeded),
		byName:   make(map[string]*seeded),
		slots:    newSlots(ch),
		metrics:  cfg.Metrics,

		registering: make(chan struct{}, maxRegistering),
		recheckWake: make(chan struct{}, 1),
	}
	if s.peerID == ([20]byte{}) {
		s.peerID = newPeerID()
	}
	s.peerCfg = &peer.Config{
		PeerID:           s.peerID,
		Client:           version.Name + "/" + version.Version,
		ListenPort:       s.listenPort,
		DHT:              cfg.DHT,
		MaxRequest:       cfg.MaxRequest,
		ReqQ:             cfg.ReqQ,
		MaxBadRequests:   cfg.MaxBadRequests,
		HandshakeTimeout: cfg.HandshakeTimeout,
		IdleTimeout:      cfg.IdleTimeout,
		WriteTimeout:     cfg.WriteTimeout,
		KeepAlive:        cfg.KeepAlive,
		Encryption:       cfg.Encryption,
		SKeys:            s.lookupSKey,
		Metrics:          s.metrics.peerMetrics(),
		Logger:           s.log,
		Uplink:           &peer.Uplink{},
	}
	if cfg.UploadRate > 0 {
		s.peerCfg.Limiter = ratelimit.New(cfg.UploadRate, cfg.MaxRequest, time.Now)
	}
	for _, t := range torrents {
		if h, dup := s.served(t); dup {
			return nil, fmt.Errorf("torrent %s (%s) given twice", t.Name(), h)
		}
		s.addSeeded(s.newSeeded(t))
	}
	if cfg.DHT != nil {
		s.dhtWatch()
	}
	return s, nil
}

// newPeerID returns our prefix followed by 12 random alphanumerics.
func newPeerID() [20]byte {
	const chars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var id [20]byte
	copy(id[:], peerIDPrefix)
	rand.Read(id[len(peerIDPrefix):])
	for i := len(peerIDPrefix); i < len(id); i++ {
		id[i] = chars[int(id[i])%len(chars)]
	}
	return id
}

// PeerID is our peer ID.
func (s *Seeder) PeerID() [20]byte { return s.peerID }

// Serve accepts peers on ln, announces every torrent and dials the
// leechers trackers name, until ctx is done. Then it stops listening,
// sends the stopped announces, closes every connection and returns nil.
// It closes ln and the torrents.
func (s *Seeder) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil {
		s.port.Store(uint32(ap.Port()))
	}
	s.families = s.cfg.AnnounceFamilies
	if len(s.families) == 0 {
		s.families = listenerFamilies(ln.Addr())
	}
	s.dialCtx = ctx
	for _, sw := range s.list {
		s.startAnnouncing(sw)
	}
	s.mu.Unlock()

	acceptErr := make(chan error, 1)
	s.wg.Go(func() { acceptErr <- s.accept(ctx, ln) })
	s.wg.Go(func() { s.chokeLoop(ctx) })
	s.wg.Go(func() { s.dialLoop(ctx) })
	s.wg.Go(func() { s.recheckLoop(ctx) })
	if s.cfg.Offload {
		s.wg.Go(func() {
			s.everyTorrent(ctx, offloadTick, func(sw *seeded, now time.Time) { sw.swarm.Tick(now) })
		})
	}
	s.wg.Go(func() {
		s.everyTorrent(ctx, pexTick, func(sw *seeded, now time.Time) { sw.swarm.SendPex(now) })
	})

	var err error
	select {
	case <-ctx.Done():
	case err = <-acceptErr:
		err = fmt.Errorf("accepting peers: %w", err)
	}
	cancel()
	ln.Close()
	// Stopped announces go out while the connections close.
	s.closeAll()
	s.announcers.Wait()
	s.wg.Wait()
	var errs []error
	s.mu.Lock()
	list := s.list
	s.mu.Unlock()
	for _, sw := range list {
		if cerr := sw.Close(); cerr != nil {
			errs = append(errs, cerr)
		}
	}
	return errors.Join(append(errs, err)...)
}

// accept runs until ctx is done (nil) or the listener fails.
func (s *Seeder) accept(ctx context.Context, ln net.Listener) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: wait, retry.
			s.log.Warn("accept failed", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if id, ok := s.admit(nc); ok {
			s.wg.Go(func() { s.handleIncoming(ctx, nc, id) })
		}
	}
}

// admit asks the gate about a new connection, closes the one it evicts to
// make room, and closes nc when it is refused. Connections still in their
// handshake count against the limits, so a flood of half-open connections
// cannot exceed them; the oldest of them make room for newcomers, so it
// cannot lock honest peers out either.
func (s *Seeder) admit(nc net.Conn) (admission.ID, bool) {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		a = ap.Addr()
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return 0, false
	}
	v := s.gate.Accept(a, s.outgoing)
	victim := s.shaking[v.Evict]
	delete(s.shaking, v.Evict)
	if v.Admit {
		s.shaking[v.ID] = nc
	}
	s.mu.Unlock()
	if victim != nil {
		s.metrics.droppedConn(true)
		s.log.Debug("handshake evicted to make room", "peer", victim.RemoteAddr().String(), "for", a)
		victim.Close()
	}
	if !v.Admit {
		s.metrics.droppedConn(false)
		s.log.Debug("connection refused: limit reached", "peer", a)
		nc.Close()
	}
	return v.ID, v.Admit
}

// handleIncoming runs a connection a peer opened, which the gate
// admitted as id: the info hash in its handshake picks the torrent.
func (s *Seeder) handleIncoming(ctx context.Context, nc net.Conn, id admission.ID) {
	defer s.incomingClosed(id)
	c, err := peer.Accept(ctx, s.peerCfg, nc, func(h metainfo.InfoHash) *peer.Torrent {
		if sw := s.lookup(h); sw != nil {
			return sw.peer
		}
		return nil
	})
	if err != nil {
		return
	}
	if !s.handshakeDone(id) {
		// Evicted just before: the gate gave its place away.
		nc.Close()
		return
	}
	c.Run(ctx)
}

// handshakeDone tells the gate that incoming connection id finished its
// handshake, so it can no longer be evicted; false when it was evicted.
func (s *Seeder) handshakeDone(id admission.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.shaking, id)
	return s.gate.Established(id)
}

// incomingClosed tells the gate that incoming connection id is gone.
func (s *Seeder) incomingClosed(id admission.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.shaking, id)
	s.gate.Close(id)
}

// everyTorrent calls f for every torrent served, every period, until ctx
// is done: the per-torrent timers (offload, peer exchange) run this way,
// each under its torrent's own lock, not the seeder's.
func (s *Seeder) everyTorrent(ctx context.Context, period time.Duration, f func(sw *seeded, now time.Time)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.mu.Lock()
			list := s.list
			s.mu.Unlock()
			for _, sw := range list {
				f(sw, now)
			}
		}
	}
}

// closeAll marks the seeder closed and closes every connection.
func (s *Seeder) closeAll() {
	s.mu.Lock()
	s.closed = true
	// Every registered connection is in slots: register adds it under mu.
	conns := s.slots.all()
	s.mu.Unlock()
	for _, c := range conns {
		c.Close(peer.ErrShutdown)
	}
}

// register adds a connection of sw that finished its handshake and
// returns its ID, or refuses it when a limit is reached or the peer is
// connected already. It runs once per connection, under mu: a torrent
// Remove took out of the registry takes no connection after.
func (s *Seeder) register(sw *seeded, c *peer.Conn) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return 0, peer.ErrShutdown
	case s.slots.len() >= s.cfg.MaxConns:
		return 0, errors.New("too many connections")
	case c.PeerID() == s.peerID:
		return 0, errors.New("connected to ourselves")
	case s.torrents[sw.InfoHash()] != sw:
		return 0, errWithdrawn
	}
	s.nextID++
	id := s.nextID
	if err := sw.swarm.Join(c, id); err != nil {
		return 0, err
	}
	s.slots.add(id, c)
	sw.active.Add(1)
	s.metrics.connected(c.Outgoing())
	return id, nil
}

// unregister forgets a closed connection of sw and gives its slot away.
func (s *Seeder) unregister(sw *seeded, c *peer.Conn) {
	if !s.slots.remove(c) {
		return
	}
	sw.swarm.Leave(c)
	sw.active.Done()
}

// chokeLoop rotates the upload slots every RechokeInterval.
func (s *Seeder) chokeLoop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.RechokeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.slots.rechoke(now)
		}
	}
}

// listenerFamilies are the address families a listener accepts peers in:
// both for the unspecified IPv6 address (a dual-stack socket), else its
// address's own.
func listenerFamilies(a net.Addr) []announcer.Family {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return []announcer.Family{announcer.FamilyAny}
	}
	switch {
	case ta.IP.To4() != nil:
		return []announcer.Family{announcer.FamilyIPv4}
	case ta.IP.IsUnspecified():
		return []announcer.Family{announcer.FamilyIPv4, announcer.FamilyIPv6}
	}
	return []announcer.Family{announcer.FamilyIPv6}
}

// newAnnouncer sets up the announce loop of one torrent under one of its
// info hashes over one address family: its own trackers, or the
// configured ones when the .torrent names none. label names the loop in
// the status.
func (s *Seeder) newAnnouncer(sw *seeded, infoHash metainfo.InfoHash, family announcer.Family, key uint32, label string) (*announcer.Announcer, error) {
	tiers := sw.Meta.Trackers()
	if len(tiers) == 0 {
		tiers = s.cfg.Trackers
	}
	if len(tiers) == 0 {
		return nil, errors.New("no tracker")
	}
	s.clientsOnce.Do(func() {
		clients := s.cfg.Clients
		if clients == nil {
			hc := announcer.NewHTTPClient(30 * time.Second)
			clients = map[string]announcer.Client{"http": hc, "https": hc, "udp": announcer.NewUDPClient()}
		}
		s.clients = s.reregistering(s.metrics.countAnnounces(clients))
	})
	port := s.listenPort()
	return announcer.New(announcer.Config{
		Tiers:      tiers,
		Clients:    s.clients,
		InfoHash:   infoHash,
		PeerID:     s.peerID,
		Port:       port,
		IP:         s.cfg.AnnounceIP,
		Key:        key,
		MinBackoff: s.cfg.AnnounceMinBackoff,
		MaxBackoff: s.cfg.AnnounceMaxBackoff,
		Stats: func() (int64, int64, int64) {
			return sw.Uploaded(), 0, sw.Left()
		},
		Family:   family,
		Peers:    func(peers []netip.AddrPort) { s.addCandidatesUnder(sw, infoHash, peers) },
		Answered: func(tracker string) { sw.answered(label, tracker) },
		Logger:   s.log.With("name", sw.Name(), "family", family.String(), "info_hash", infoHash.String()),
	})
}

// TorrentStatus is one torrent as the admin listener shows it.
type TorrentStatus struct {
	Name string `json:"name"`
	// InfoHash is the hash the torrent is known by on the wire and to
	// trackers: the v1 info hash, or a v2-only torrent's truncated v2
	// info hash.
	InfoHash string `json:"info_hash"`
	// InfoHashV2 is the full v2 info hash (64 hex digits) of a v2 or
	// hybrid torrent, whose first 40 digits name its v2 swarm; empty for
	// v1.
	InfoHashV2 string `json:"info_hash_v2,omitempty"`
	// TwinOf is, for the v1-only twin of a hybrid torrent, the hybrid's
	// info hash; V1Twin is, for a hybrid that has one, its twin's.
	TwinOf string `json:"twin_of,omitempty"`
	V1Twin string `json:"v1_twin,omitempty"`
	Size   int64  `json:"size"`
	Pieces uint32 `json:"pieces"`
	// Verified counts the pieces served: they passed verification and
	// their files did not change since.
	Verified uint32 `json:"verified_pieces"`
	Peers    int    `json:"peers"`
	Uploaded int64  `json:"uploaded"`
	// Announced maps each address family ("ipv4", "ipv6") to the tracker
	// that last answered an announce over it: trackers know our address
	// in those families. A hybrid's announces under its v2 info hash are
	// "ipv4 v2" and "ipv6 v2".
	Announced map[string]string `json:"announced,omitempty"`
	Torrent   string            `json:"torrent"`
	Magnet    string            `json:"magnet"`
	// Offload is what the offload policy knows; absent when it is off.
	Offload *swarm.OffloadStatus `json:"offload,omitempty"`
}

// Status reports every torrent, in load order.
func (s *Seeder) Status() []TorrentStatus {
	s.mu.Lock()
	out := make([]TorrentStatus, 0, len(s.list))
	list := s.list
	twins := map[metainfo.InfoHash]string{}
	for _, sw := range list {
		if sw.TwinOf != (metainfo.InfoHash{}) {
			twins[sw.TwinOf] = sw.InfoHash().String()
		}
	}
	for _, sw := range list {
		var v2, twinOf string
		if h, ok := sw.Meta.InfoHashV2(); ok {
			v2 = h.String()
		}
		if sw.TwinOf != (metainfo.InfoHash{}) {
			twinOf = sw.TwinOf.String()
		}
		out = append(out, TorrentStatus{
			Name:       sw.Name(),
			InfoHash:   sw.InfoHash().String(),
			InfoHashV2: v2,
			TwinOf:     twinOf,
			V1Twin:     twins[sw.InfoHash()],
			Size:       sw.Meta.Info.TotalLength(),
			Pieces:     sw.NumPieces(),
			Verified:   sw.Verified(),
			Peers:      sw.swarm.Len(),
			Uploaded:   sw.Uploaded(),
			Announced:  sw.announcedTo(),
			Torrent:    sw.Path,
			Magnet:     sw.Meta.Magnet().String(),
		})
	}
	s.mu.Unlock()
	// The offload state has its own lock, taken without the seeder's.
	for i, sw := range list {
		if st, ok := sw.swarm.OffloadStatus(); ok {
			out[i].Offload = &st
		}
	}
	return out
}

// listenPort is the port peers and trackers should reach us on. It takes
// no lock: a new connection calls it while others hold s.mu.
func (s *Seeder) listenPort() uint16 {
	if s.cfg.AnnouncePort != 0 {
		return s.cfg.AnnouncePort
	}
	return uint16(s.port.Load())
}

// lookupSKey finds the torrent whose HASH('req2', info hash) is req2, for
// an MSE handshake.
func (s *Seeder) lookupSKey(req2 [20]byte) ([20]byte, bool) {
	s.mu.Lock()
	list := s.list
	s.mu.Unlock()
	for _, sw := range list {
		for _, ih := range sw.InfoHashes() {
			if peer.Req2(ih) == req2 {
				return ih, true
			}
		}
	}
	return [20]byte{}, false
}
