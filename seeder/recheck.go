package seeder

import (
	"context"
	"time"

	"github.com/bitorigin/bitorigin/seeder/content"
)

// Verifying again, while serving: pieces of a file that changed on disk or
// could not be read stop being served at once (content.Torrent), and
// one loop of the Seeder hashes them again, a torrent at a time with
// recheckWorkers goroutines, so that a burst of changes costs bounded CPU
// and memory. Pieces that pass are served again; those that fail stay
// unserved until their file changes again.
const (
	recheckWorkers = 2
	// repairInterval is how often the files of pieces not served are
	// examined, to notice an operator's repair: nobody reads them
	// otherwise.
	repairInterval = 2 * time.Second
)

// watchTorrent has the seeder told of sw's invalidations, and queues the
// pieces invalidated before; s.mu is held, or s not shared yet.
func (s *Seeder) watchTorrent(sw *seeded) {
	if sw.Watch(func(inv content.Invalidation) { s.invalidated(sw, inv) }) {
		s.queueRecheckLocked(sw)
	}
}

// invalidated logs an invalidation of sw's pieces and queues them to be
// verified again. It runs on whichever goroutine noticed, possibly with
// the storage's check lock held.
func (s *Seeder) invalidated(sw *seeded, inv content.Invalidation) {
	s.metrics.invalidated()
	if inv.File != "" {
		s.log.Warn("file changed on disk: its pieces are not served until verified again", "name", sw.Name(),
			"file", inv.File, "change", inv.What, "first_piece", inv.First, "last_piece", inv.Last)
	} else {
		s.log.Warn("read failed: pieces not served until verified again", "name", sw.Name(),
			"err", inv.What, "first_piece", inv.First, "last_piece", inv.Last)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.torrents[sw.InfoHash()] == sw {
		s.queueRecheckLocked(sw)
	}
}

// queueRecheckLocked queues sw for the recheck loop; s.mu is held.
func (s *Seeder) queueRecheckLocked(sw *seeded) {
	if !sw.queued {
		sw.queued = true
		s.rechecks = append(s.rechecks, sw)
	}
	select {
	case s.recheckWake <- struct{}{}:
	default:
	}
}

// nextRecheck takes the next queued torrent still served, counted in its
// active readers so that Remove waits for the recheck; nil when none.
func (s *Seeder) nextRecheck() *seeded {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.rechecks) > 0 {
		sw := s.rechecks[0]
		s.rechecks = s.rechecks[1:]
		sw.queued = false
		if !s.closed && s.torrents[sw.InfoHash()] == sw {
			sw.active.Add(1)
			return sw
		}
	}
	return nil
}

// recheckLoop verifies invalidated pieces again until ctx is done, and
// every repairInterval examines the files of pieces not served.
func (s *Seeder) recheckLoop(ctx context.Context) {
	tick := time.NewTicker(repairInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.recheckWake:
		case <-tick.C:
			s.examineUnserved()
		}
		for sw := s.nextRecheck(); sw != nil; sw = s.nextRecheck() {
			s.recheck(ctx, sw)
			sw.active.Done()
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// recheck hashes sw's invalidated pieces again, serves those that pass
// and tells the connected peers with have messages (BEP 3): a peer that
// connected while a piece was not served did not hear of it.
func (s *Seeder) recheck(ctx context.Context, sw *seeded) {
	pieces := sw.TakePending()
	if len(pieces) == 0 {
		return
	}
	start := time.Now()
	var good, bad int
	var back []uint32
	info := &sw.Meta.Info
	var size int64
	for _, i := range pieces {
		size += info.PieceSize(int(i))
	}
	err := sw.Hash(ctx, pieces, recheckWorkers, func(i uint32, ok bool) {
		s.metrics.rechecked(ok)
		if ok {
			good++
		} else {
			bad++
		}
		if sw.Settle(i, ok) {
			back = append(back, i)
		}
	}, size, nil)
	if err != nil {
		return // shutting down
	}
	log := s.log.Info
	if bad > 0 {
		log = s.log.Warn
	}
	log("pieces verified again", "name", sw.Name(), "pieces", len(pieces), "good", good, "bad", bad,
		"served", sw.Verified(), "of", sw.NumPieces(), "took", time.Since(start).Round(time.Millisecond))
	if len(back) > 0 {
		sw.swarm.ServedAgain(back)
	}
}

// examineUnserved examines the files holding pieces not served (not
// pending already), which nobody reads: a file repaired or put back shows
// as a change, and its pieces are verified again.
func (s *Seeder) examineUnserved() {
	s.mu.Lock()
	list := s.list
	s.mu.Unlock()
	for _, sw := range list {
		sw.ExamineUnserved()
	}
}
