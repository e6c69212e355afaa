// Package dhtnode is the seeder's node in the BitTorrent DHT (BEP 5),
// built on github.com/anacrolix/dht/v2: it announces every torrent the
// seeder serves (announce_peer with the seeder's peer port), answers
// get_peers with the seeder's own address for those torrents besides the
// peers other nodes announced, keeps its node ID and routing table in a
// state file across restarts, and bounds what it sends, in total and per
// querying IP.
//
// It contacts only the bootstrap nodes it is given, the nodes its state
// file remembers, and nodes it learns from those or that query it: with
// neither bootstrap nodes nor state it sends nothing until queried.
package dhtnode

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	"golang.org/x/time/rate"

	"github.com/bitorigin/bitorigin/metainfo"
)

// Bounds of announcing.
const (
	// maxAnnouncing is how many torrents are announced at once.
	maxAnnouncing = 4
	// announceTimeout bounds one announce: the get_peers traversal and
	// the announce_peer queries after it.
	announceTimeout = 2 * time.Minute
	// retryInterval is the wait after an announce nobody answered.
	retryInterval = time.Minute
	// closeTimeout bounds the wait for the library's table maintenance
	// to notice that the node closed.
	closeTimeout = 5 * time.Second
)

// Node is a running DHT node. Its methods may be called from any
// goroutine; a nil *Node does nothing.
type Node struct {
	cfg     Config
	log     *slog.Logger
	conn    net.PacketConn
	srv     *dht.Server
	peers   *peerStore
	limiter *ipLimiter
	m       *nodeMetrics
	pinger  *pinger
	local   localAddrs
	// selfIP is the seeder's address in our answers: Config.PeerIP, else
	// the address the node listens on unless that is a wildcard one
	// (then wildcard is set, and answers to queriers of a family selfIP
	// is not of give the address they see us at: see selfFor).
	selfIP   netip.Addr
	wildcard bool
	// id is our node ID, fixed before the server starts.
	id krpc.ID

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // announce and save loops, announces
	// maintained closes when the library's table maintenance returns.
	maintained chan struct{}
	closeOnce  sync.Once
	closeErr   error

	wake   chan struct{} // tells the announce loop that torrents changed
	foundQ chan foundBatch

	mu       sync.Mutex // guards what follows
	torrents map[metainfo.InfoHash]*torrent
	onPeers  func(metainfo.InfoHash, []netip.AddrPort)
	// querier is the source of the query being answered: the library
	// handles one query at a time, under its lock, calling onQuery then
	// the peer store's GetPeers.
	querier netip.Addr
}

// torrent is one torrent the node announces.
type torrent struct {
	port    uint16
	next    time.Time // when to announce again
	running bool
}

// Start listens, loads the state file and runs the node until Close.
func Start(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	conn := cfg.Conn
	if conn == nil {
		var err error
		if conn, err = net.ListenPacket("udp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("dht: %w", err)
		}
	}
	n := &Node{
		cfg:        cfg,
		log:        cfg.Logger,
		conn:       conn,
		limiter:    newIPLimiter(cfg.PerIPRate, 4*cfg.PerIPRate, time.Now),
		selfIP:     cfg.PeerIP,
		maintained: make(chan struct{}),
		wake:       make(chan struct{}, 1),
		foundQ:     make(chan foundBatch, maxFoundBatches),
		torrents:   map[metainfo.InfoHash]*torrent{},
		pinger:     newPinger(time.Now),
	}
	if ap, err := netip.ParseAddrPort(conn.LocalAddr().String()); err == nil {
		switch {
		case ap.Addr().IsUnspecified():
			n.wildcard = true
		case !n.selfIP.IsValid():
			n.selfIP = ap.Addr().Unmap()
		}
	}
	n.peers = newPeerStore(n.self, time.Now)
	n.peers.added = func(h [20]byte, a krpc.NodeAddr) { n.found(h, "announce_peer", []krpc.NodeAddr{a}) }
	n.m = newMetrics(cfg.Registerer, n)

	var (
		id    krpc.ID
		nodes []krpc.NodeInfo
	)
	if cfg.StateFile != "" {
		var err error
		if id, nodes, err = readState(cfg.StateFile); err != nil {
			n.log.Warn("dht: ignoring the state file: starting with a new node ID and an empty routing table", "err", err)
			id, nodes = krpc.ID{}, nil
		}
	}
	if id.IsZero() {
		id = krpc.RandomNodeID()
	}
	n.id = id
	burst := max(1, int(cfg.Rate))
	srv, err := dht.NewServer(&dht.ServerConfig{
		NodeId: id,
		Conn:   countingConn{PacketConn: conn, m: n.m},
		// BEP 42 node IDs are not required of others, as libtorrent does
		// not by default; ours is random, or the one the state kept.
		NoSecurity:    true,
		StartingNodes: n.bootstrapNodes,
		OnQuery:       n.onQuery,
		PeerStore:     n.peers,
		Logger:        libraryLogger(n.log),
		SendLimiter:   rate.NewLimiter(rate.Limit(cfg.Rate), burst),
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("dht: %w", err)
	}
	n.srv = srv
	if err := n.m.register(cfg.Registerer); err != nil {
		srv.Close()
		conn.Close()
		return nil, err
	}
	added := 0
	for _, ni := range nodes {
		if srv.AddNode(ni) == nil {
			added++
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	go func() {
		defer close(n.maintained)
		// Bootstraps when it can, then pings questionable nodes and
		// refreshes buckets every minute until the server closes.
		srv.TableMaintainer()
	}()
	n.wg.Go(n.announceLoop)
	n.wg.Go(n.pingLoop)
	n.wg.Go(n.deliverLoop)
	if cfg.StateFile != "" {
		n.wg.Go(n.saveLoop)
	}
	n.log.Info("dht node started", "addr", conn.LocalAddr().String(), "id", fmt.Sprintf("%x", srv.ID()),
		"nodes_loaded", added, "bootstrap", cfg.Bootstrap, "peer_ip", n.selfIP)
	return n, nil
}

// Addr is the UDP address the node listens on.
func (n *Node) Addr() netip.AddrPort {
	ap, _ := netip.ParseAddrPort(n.conn.LocalAddr().String())
	return ap
}

// Port is the UDP port of the node, for the port message (BEP 5); 0 for
// a nil Node.
func (n *Node) Port() uint16 {
	if n == nil {
		return 0
	}
	return n.Addr().Port()
}

// ID is the node's ID.
func (n *Node) ID() [20]byte { return n.id }

// Nodes is the size of the routing table.
func (n *Node) Nodes() int { return n.srv.NumNodes() }

// NodeAddrs are the addresses of the nodes in the routing table.
func (n *Node) NodeAddrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, ni := range n.srv.Nodes() {
		if ip, ok := netip.AddrFromSlice(ni.Addr.IP); ok {
			out = append(out, netip.AddrPortFrom(ip.Unmap(), uint16(ni.Addr.Port)))
		}
	}
	return out
}

// Announce makes the node announce the torrent with port, the seeder's
// peer port, now and every AnnounceInterval, and answer get_peers for it
// with the seeder's address, until Withdraw.
func (n *Node) Announce(h metainfo.InfoHash, port uint16) {
	if n == nil {
		return
	}
	n.mu.Lock()
	t := n.torrents[h]
	if t != nil && t.port == port {
		n.mu.Unlock()
		return
	}
	if t == nil {
		t = &torrent{}
		n.torrents[h] = t
	}
	t.port, t.next = port, time.Time{}
	n.mu.Unlock()
	n.signal()
}

// Withdraw stops announcing the torrent and giving our address for it.
func (n *Node) Withdraw(h metainfo.InfoHash) {
	if n == nil {
		return
	}
	n.mu.Lock()
	delete(n.torrents, h)
	n.mu.Unlock()
}

// Close stops the node, waits for its goroutines and writes the state
// file.
func (n *Node) Close() error {
	if n == nil {
		return nil
	}
	n.closeOnce.Do(func() {
		n.cancel()
		n.srv.Close()
		// The library closes the socket in the background; closing it
		// here frees the port before Close returns.
		n.conn.Close()
		n.wg.Wait()
		select {
		case <-n.maintained:
		case <-time.After(closeTimeout):
			n.log.Warn("dht: table maintenance did not stop in time", "waited", closeTimeout)
		}
		n.closeErr = n.save()
	})
	return n.closeErr
}

// save writes the state file, when there is one.
func (n *Node) save() error {
	if n.cfg.StateFile == "" {
		return nil
	}
	return writeState(n.cfg.StateFile, n.srv.ID(), n.srv.Nodes())
}

// saveLoop writes the state file every SaveInterval until Close.
func (n *Node) saveLoop() {
	tick := time.NewTicker(n.cfg.SaveInterval)
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
			if err := n.save(); err != nil {
				n.log.Warn("dht: saving the routing table", "err", err)
			}
		}
	}
}

// self is the seeder's address for a torrent it serves, as the node
// being answered should see it.
func (n *Node) self(h [20]byte) (netip.AddrPort, bool) {
	n.mu.Lock()
	t, querier := n.torrents[h], n.querier
	n.mu.Unlock()
	if t == nil || t.port == 0 {
		return netip.AddrPort{}, false
	}
	ip := n.selfFor(querier)
	if !ip.IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip, t.port), true
}

// numAnnounced is how many torrents the node announces.
func (n *Node) numAnnounced() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.torrents)
}

// onQuery counts a query and drops it when its source is over the per-IP
// rate. Our own queries are dropped too: a traversal may reach us through
// a node that knows us, and we would store ourselves as a peer. The
// library calls it with its lock held: it must not call back.
func (n *Node) onQuery(q *krpc.Msg, src net.Addr) bool {
	var ip netip.Addr
	if ua, ok := src.(*net.UDPAddr); ok {
		ip, _ = netip.AddrFromSlice(ua.IP)
		ip = ip.Unmap()
	}
	n.mu.Lock()
	n.querier = ip
	n.mu.Unlock()
	if id := q.SenderID(); id != nil && *id == n.id {
		return false
	}
	if refuse(q) {
		n.m.query(q.Q, "refused")
		return false
	}
	ok := n.limiter.allow(ip)
	if ok {
		n.m.query(q.Q, "answered")
	} else {
		n.m.query(q.Q, "limited")
	}
	return ok
}

// refuse picks the queries the library must not see. v2.23.0 dereferences
// the arguments of announce_peer, put and get unchecked: one such query
// without its "a" dictionary would crash the seeder (FuzzNodePacket found
// it). And put and get (BEP 44) are not offered at all: they would have
// the node keep data others store, which the seeder has no use for.
func refuse(q *krpc.Msg) bool {
	switch q.Q {
	case "put", "get":
		return true
	case "announce_peer":
		return q.A == nil
	}
	return false
}

// bootstrapNodes resolves the bootstrap nodes, for the library when its
// routing table is empty.
func (n *Node) bootstrapNodes() ([]dht.Addr, error) {
	var out []dht.Addr
	for _, hp := range n.cfg.Bootstrap {
		ua, err := net.ResolveUDPAddr("udp", hp)
		if err != nil {
			n.log.Warn("dht: bootstrap node not resolved", "node", hp, "err", err)
			continue
		}
		out = append(out, dht.NewAddr(ua))
	}
	return out, nil
}

func (n *Node) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// announceLoop announces each torrent when it is due, a few at a time,
// until Close.
func (n *Node) announceLoop() {
	slots := make(chan struct{}, maxAnnouncing)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		next := now.Add(time.Hour)
		var due []metainfo.InfoHash
		n.mu.Lock()
		for h, t := range n.torrents {
			switch {
			case t.running:
			case !t.next.After(now):
				due = append(due, h)
			case t.next.Before(next):
				next = t.next
			}
		}
		n.mu.Unlock()
		for _, h := range due {
			select {
			case slots <- struct{}{}:
			case <-n.ctx.Done():
				return
			}
			n.mu.Lock()
			t := n.torrents[h]
			if t == nil || t.running {
				n.mu.Unlock()
				<-slots
				continue
			}
			t.running = true
			port := t.port
			n.mu.Unlock()
			n.wg.Go(func() {
				defer func() { <-slots }()
				n.announced(h, port, n.announce(h, port))
			})
		}
		timer.Reset(time.Until(next))
		select {
		case <-n.ctx.Done():
			return
		case <-n.wake:
		case <-timer.C:
		}
	}
}

// announced schedules the next announce of h after one with port and
// result. One for another port than Announce gave since is due at once.
func (n *Node) announced(h metainfo.InfoHash, port uint16, result string) {
	n.m.announced(result)
	wait := retryInterval
	if result == "ok" {
		// Spread the torrents announced together over a tenth of the
		// interval, so that they do not stay in step.
		iv := n.cfg.AnnounceInterval
		wait = iv - iv/10 + rand.N(iv/10)
	}
	n.mu.Lock()
	if t := n.torrents[h]; t != nil {
		t.running = false
		if t.port == port {
			t.next = time.Now().Add(min(wait, n.cfg.AnnounceInterval))
		}
	}
	n.mu.Unlock()
	n.signal()
}

// announce runs one announce of h: a get_peers traversal toward the info
// hash, then announce_peer with port to the closest nodes that answered.
func (n *Node) announce(h metainfo.InfoHash, port uint16) string {
	ctx, cancel := context.WithTimeout(n.ctx, announceTimeout)
	defer cancel()
	a, err := n.srv.AnnounceTraversal(h, dht.AnnouncePeer(dht.AnnouncePeerOpts{Port: int(port)}))
	if err != nil {
		n.log.Debug("dht: not announced", "info_hash", h.String(), "err", err)
		return "no_nodes"
	}
	stop := context.AfterFunc(ctx, a.Close)
	defer stop()
	// The peers found go to the seeder's dialler (OnPeers). Peers closes
	// once the announce_peer queries are done.
	for v := range a.Peers {
		n.found(h, "traversal", v.Peers)
	}
	a.Close()
	st := a.TraversalStats()
	n.log.Debug("dht: announced", "info_hash", h.String(), "port", port, "nodes_tried", st.NumAddrsTried,
		"responses", st.NumResponses)
	if st.NumResponses == 0 {
		return "no_reply"
	}
	return "ok"
}
