package seeder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/peer"
	"github.com/bitorigin/bitorigin/seeder/swarm"
)

// maxRegistering bounds the registrations in flight, so that a seeder
// starting with thousands of torrents does not open as many connections
// to the trackers' admin API at once.
const maxRegistering = 8

// errWithdrawn ends the connections of a torrent that Remove withdrew.
var errWithdrawn = errors.New("torrent withdrawn")

// ErrNotServed is returned by Remove for a torrent the seeder does not
// serve.
var ErrNotServed = errors.New("torrent not served")

// newSeeded wraps a torrent for serving.
func (s *Seeder) newSeeded(t *content.Torrent) *seeded {
	sw := &seeded{Torrent: t}
	sw.swarm = swarm.New(swarm.Config{
		InfoHash: t.InfoHash(),
		Pieces:   t.NumPieces(),
		Served:   t.Served().Has,
		Private:  t.Meta.Info.Private,
		Offload:  s.cfg.Offload,
		Uplink:   s.peerCfg.Uplink,
		MaxConns: s.cfg.MaxConnsPerTorrent,
		MaxDials: s.cfg.MaxDialsPerTorrent,
	})
	sw.peer = &peer.Torrent{
		Name:       t.Name(),
		Pieces:     t.NumPieces(),
		PieceLen:   t.PieceLen(),
		LastLen:    t.LastLen(),
		Metadata:   t.Meta.InfoBytes(),
		Trees:      t.Trees(),
		V2:         t.Meta.Info.HasV2(),
		Private:    t.Meta.Info.Private,
		Loaded:     t.Have,
		Served:     t.Served(),
		Storage:    t.Storage(),
		Uploaded:   t.UploadCounter(),
		Invalidate: t.Invalidate,
		Offload:    sw.swarm.Offload(),
		Pex:        sw.swarm.Pex(),
		Register:   func(c *peer.Conn) (uint64, error) { return s.register(sw, c) },
		Started:    sw.swarm.Started,
		Closed:     func(c *peer.Conn) { s.unregister(sw, c) },
		Interest:   s.slots.setInterested,
		Extensions: sw.swarm.Extensions,
		Bitfield:   sw.swarm.Bitfield,
		Have:       sw.swarm.Have,
	}
	return sw
}

// addSeeded makes sw known; s.mu is held, or s not shared yet. The list is
// copied, never appended to in place (see Seeder.list).
func (s *Seeder) addSeeded(sw *seeded) {
	for _, h := range sw.InfoHashes() {
		s.torrents[h] = sw
	}
	if _, ok := s.byName[sw.Name()]; !ok {
		s.byName[sw.Name()] = sw
	}
	s.list = append(s.list[:len(s.list):len(s.list)], sw)
	s.watchTorrent(sw)
}

// served returns an info hash of t already served, if any; s.mu is held,
// or s not shared yet.
func (s *Seeder) served(t *content.Torrent) (metainfo.InfoHash, bool) {
	for _, h := range t.InfoHashes() {
		if _, dup := s.torrents[h]; dup {
			return h, true
		}
	}
	return metainfo.InfoHash{}, false
}

// lookup returns the served torrent with the info hash (either of a
// hybrid's), or nil.
func (s *Seeder) lookup(h metainfo.InfoHash) *seeded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.torrents[h]
}

// Torrent returns the served torrent named name (its info dictionary's
// name), or nil. The web seed finds its files this way.
func (s *Seeder) Torrent(name string) *content.Torrent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sw := s.byName[name]; sw != nil {
		return sw.Torrent
	}
	return nil
}

// Add starts serving a torrent: peers asking for it are accepted at once,
// and once Serve runs it is registered (Config.Registrar) and announced.
// The Seeder takes the torrent over and closes it. Add fails for a torrent
// served already and after shutdown.
func (s *Seeder) Add(t *content.Torrent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return peer.ErrShutdown
	}
	if h, dup := s.served(t); dup {
		return fmt.Errorf("torrent %s (%s) served already", t.Name(), h)
	}
	sw := s.newSeeded(t)
	s.addSeeded(sw)
	if s.dialCtx != nil {
		s.startAnnouncing(sw)
	}
	s.log.Info("torrent added", "name", t.Name(), "info_hash", t.InfoHash().String())
	return nil
}

// Remove withdraws a torrent, given any of its info hashes: its announce
// loops send stopped, its peers are disconnected, its files closed and,
// with Config.Registrar, each of its info hashes is unregistered from the
// trackers (within ctx). Remove returns once all of that is done.
func (s *Seeder) Remove(ctx context.Context, infoHash metainfo.InfoHash) error {
	s.mu.Lock()
	sw := s.torrents[infoHash]
	if sw == nil {
		s.mu.Unlock()
		return fmt.Errorf("remove %s: %w", infoHash, ErrNotServed)
	}
	for _, h := range sw.InfoHashes() {
		delete(s.torrents, h)
	}
	s.list = slices.DeleteFunc(slices.Clone(s.list), func(x *seeded) bool { return x == sw })
	if s.byName[sw.Name()] == sw {
		delete(s.byName, sw.Name())
		for _, other := range s.list {
			if other.Name() == sw.Name() {
				s.byName[sw.Name()] = other
				break
			}
		}
	}
	stop, announced := sw.stopAnnounce, sw.announced
	s.mu.Unlock()
	// No connection joins a torrent no longer listed (register), so these
	// are all it will have.
	conns := sw.swarm.Conns()
	s.dhtWithdraw(sw)

	for _, c := range conns {
		c.Close(errWithdrawn)
	}
	if stop != nil {
		stop()
		<-announced // the stopped announce went out
	}
	// No connection registers for a torrent no longer listed, so once the
	// registered ones are gone nothing reads the files.
	sw.active.Wait()
	sw.Watch(nil)
	err := sw.Close()
	if r := s.cfg.Registrar; r != nil {
		// One call: the tracker drops a hybrid's v2 hash with its v1 one.
		h := sw.InfoHash()
		if uerr := r.Unregister(ctx, h); uerr != nil {
			err = errors.Join(err, fmt.Errorf("unregister %s: %w", h, uerr))
		} else {
			s.log.Info("torrent unregistered", "name", sw.Name(), "info_hash", h.String())
		}
	}
	s.log.Info("torrent withdrawn", "name", sw.Name(), "info_hash", sw.InfoHash().String(), "peers", len(conns))
	return err
}

// startAnnouncing starts the registration and announce loop of sw under
// Serve's context; s.mu is held and Serve runs.
func (s *Seeder) startAnnouncing(sw *seeded) {
	s.dhtAnnounce(sw)
	ctx, cancel := context.WithCancel(s.dialCtx)
	sw.stopAnnounce = cancel
	sw.announced = make(chan struct{})
	s.announcers.Go(func() {
		defer close(sw.announced)
		defer cancel()
		s.announce(ctx, sw)
	})
}

// announce registers sw with the trackers, when configured, then runs its
// announce loops until ctx is done: one per address family and info hash,
// so a hybrid is announced in its v1 and its v2 swarm, over every family.
func (s *Seeder) announce(ctx context.Context, sw *seeded) {
	var loops []*announcer.Announcer
	// One key for every family: with the same peer ID, it tells trackers
	// that our IPv4 and IPv6 announces come from one peer (BEP 7).
	key := mrand.Uint32()
	hashes := sw.InfoHashes()
	for i, h := range hashes {
		// The status shows the first hash's families as "ipv4", "ipv6",
		// a hybrid's v2 hash's as "ipv4 v2", "ipv6 v2".
		suffix := ""
		if i > 0 {
			suffix = " v2"
		}
		for _, f := range s.families {
			a, err := s.newAnnouncer(sw, h, f, key, f.String()+suffix)
			if errors.Is(err, announcer.ErrNoRoute) {
				s.log.Debug("not announcing over this address family", "name", sw.Name(), "family", f.String(), "err", err)
				continue
			}
			if err != nil {
				s.log.Warn("not announcing", "name", sw.Name(), "err", err)
				return
			}
			loops = append(loops, a)
		}
	}
	if len(loops) == 0 {
		s.log.Warn("not announcing: no tracker reachable over the families we listen on", "name", sw.Name())
		return
	}
	if r := s.cfg.Registrar; r != nil {
		select {
		case s.registering <- struct{}{}:
		case <-ctx.Done():
			return
		}
		err := keepRegistered(ctx, r, sw.Torrent)
		<-s.registering
		if err != nil {
			return // ctx is done: never announced, nothing to stop
		}
		s.log.Info("torrent registered", "name", sw.Name(), "info_hash", sw.InfoHash().String(), "hashes", len(hashes))
	}
	var wg sync.WaitGroup
	for _, a := range loops {
		wg.Go(func() { a.Run(ctx) })
	}
	wg.Wait()
}

// answered records the tracker that answered an announce over the family
// (and info hash) that label names.
func (sw *seeded) answered(label, tracker string) {
	sw.announcedMu.Lock()
	defer sw.announcedMu.Unlock()
	if sw.announcedOver == nil {
		sw.announcedOver = make(map[string]string)
	}
	sw.announcedOver[label] = tracker
}

// announcedTo returns a copy of what answered records, or nil.
func (sw *seeded) announcedTo() map[string]string {
	sw.announcedMu.Lock()
	defer sw.announcedMu.Unlock()
	if len(sw.announcedOver) == 0 {
		return nil
	}
	return maps.Clone(sw.announcedOver)
}

// unknownTorrentReason is how our tracker starts the failure reason it
// gives for a torrent nobody registered (tracker.ErrUnknownTorrent).
const unknownTorrentReason = "unregistered torrent"

// reregisteringClient registers a torrent again when a tracker refuses it
// as unknown, which happens when the tracker lost its registrations (a
// restart with an in-memory store), and then retries the announce once.
type reregisteringClient struct {
	announcer.Client
	r   *announcer.Registrar
	log *slog.Logger
	// torrent finds the served torrent of an announced hash, either of a
	// hybrid's.
	torrent func([20]byte) *content.Torrent
}

// register registers t with the trackers once: a hybrid as one swarm
// under both its hashes (the tracker's alias), anything else by its hash.
func register(ctx context.Context, r *announcer.Registrar, t *content.Torrent) error {
	v1, hasV1 := t.Meta.InfoHashV1()
	v2, hasV2 := t.Meta.InfoHashV2()
	if hasV1 && hasV2 {
		return r.RegisterHybrid(ctx, v1, v2)
	}
	return r.Register(ctx, t.InfoHash())
}

// keepRegistered is register, retried until it succeeds or ctx ends.
func keepRegistered(ctx context.Context, r *announcer.Registrar, t *content.Torrent) error {
	v1, hasV1 := t.Meta.InfoHashV1()
	v2, hasV2 := t.Meta.InfoHashV2()
	if hasV1 && hasV2 {
		return r.KeepHybrid(ctx, v1, v2)
	}
	return r.Keep(ctx, t.InfoHash())
}

// Announce announces, registering again and retrying on an unknown
// torrent refusal.
func (c reregisteringClient) Announce(ctx context.Context, trackerURL string, req *announcer.Request) (*announcer.Response, error) {
	resp, err := c.Client.Announce(ctx, trackerURL, req)
	var f *announcer.FailureError
	if !errors.As(err, &f) || !strings.HasPrefix(f.Reason, unknownTorrentReason) || req.Event == announcer.EventStopped {
		return resp, err
	}
	var rerr error
	if t := c.torrent(req.InfoHash); t != nil {
		rerr = register(ctx, c.r, t)
	} else {
		rerr = c.r.Register(ctx, req.InfoHash)
	}
	if rerr != nil {
		return resp, errors.Join(err, fmt.Errorf("registering again: %w", rerr))
	}
	c.log.Info("torrent registered again: the tracker had forgotten it", "tracker", trackerURL,
		"info_hash", metainfo.InfoHash(req.InfoHash).String())
	return c.Client.Announce(ctx, trackerURL, req)
}

// reregistering wraps every client with reregisteringClient when torrents
// are registered.
func (s *Seeder) reregistering(clients map[string]announcer.Client) map[string]announcer.Client {
	if s.cfg.Registrar == nil {
		return clients
	}
	out := make(map[string]announcer.Client, len(clients))
	for scheme, c := range clients {
		out[scheme] = reregisteringClient{Client: c, r: s.cfg.Registrar, log: s.log, torrent: func(h [20]byte) *content.Torrent {
			if sw := s.lookup(h); sw != nil {
				return sw.Torrent
			}
			return nil
		}}
	}
	return out
}
