package swarmload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/bitorigin/bitorigin/loadtest"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
)

// Run downloads the torrent with cfg.Leechers leechers at once and reports.
// An error means the run could not start: no seeder, no metadata, a bad
// config. Leechers that fail are counted in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	t, addr, err := resolve(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	info := &t.Info
	n := uint32(info.NumPieces())
	lv := &live{}
	results := make([]leecherResult, cfg.Leechers)
	var wg sync.WaitGroup
	began := time.Now()
	var p *loadtest.Progress
	if cfg.Progress != nil {
		total := info.TotalLength() * int64(cfg.Leechers)
		p = loadtest.StartProgress(cfg.Progress, time.Second, func(el time.Duration) string {
			b := lv.bytes.Load()
			line := fmt.Sprintf("%5.1fs  %5.1f%%  %.1f MB/s  done %d  failed %d of %d leechers",
				el.Seconds(), 100*float64(b)/float64(max(total, 1)), float64(b)/1e6/max(el.Seconds(), 1e-3),
				lv.done.Load(), lv.failed.Load(), cfg.Leechers)
			if cfg.Trade {
				line += fmt.Sprintf("  origin %.2f copies", float64(lv.fromSeeder.Load())/float64(max(info.TotalLength(), 1)))
			}
			return line
		})
	}
	if cfg.Trade {
		results = trade(ctx, &cfg, t, addr, lv)
	} else {
		for i := range cfg.Leechers {
			l := &leecher{id: i, addr: addr, ih: t.InfoHash(), info: info, cfg: &cfg, numPieces: n, live: lv,
				start: uint32(uint64(i) * uint64(n) / uint64(cfg.Leechers))}
			wg.Go(func() { results[i] = l.run(ctx) })
		}
		wg.Wait()
	}
	elapsed := time.Since(began)
	if p != nil {
		p.Stop()
	}
	return report(&cfg, t, addr, results, elapsed), nil
}

// resolve returns the torrent, fetching its info dictionary for a magnet
// link, and the seeder's address, asking the trackers when none is given.
func resolve(ctx context.Context, cfg *Config) (*metainfo.Torrent, string, error) {
	t := cfg.Torrent
	var ih [20]byte
	var trackers []string
	if t != nil {
		ih = t.InfoHash()
		for _, tier := range t.Trackers() {
			trackers = append(trackers, tier...)
		}
	} else {
		ih = cfg.Magnet.InfoHash
		trackers = cfg.Magnet.Trackers
	}
	if cfg.Seeder != "" {
		if t == nil {
			var err error
			if t, err = fetchTorrent(ctx, cfg.Seeder, ih, cfg.DialTimeout); err != nil {
				return nil, "", err
			}
		}
		return t, cfg.Seeder, nil
	}
	peers, err := askTrackers(ctx, trackers, ih, cfg.DialTimeout)
	if err != nil {
		return nil, "", fmt.Errorf("finding the seeder: %w", err)
	}
	var errs []error
	for _, ap := range peers {
		addr := ap.String()
		pt := t
		if pt == nil {
			if pt, err = fetchTorrent(ctx, addr, ih, cfg.DialTimeout); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		full, err := probe(ctx, addr, ih, uint32(pt.Info.NumPieces()), cfg.DialTimeout)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if full {
			return pt, addr, nil
		}
		errs = append(errs, fmt.Errorf("peer %s has only part of the torrent", addr))
	}
	return nil, "", fmt.Errorf("finding the seeder among %d peers from the trackers: %w", len(peers), errors.Join(errs...))
}

// Error classes, as reports count them.
const (
	errTimeout  = "timeout"
	errRefused  = "refused"
	errReset    = "reset"
	errClosed   = "closed"
	errProtocol = "protocol"
	errLacks    = "seeder_lacks_piece"
	errBadHash  = "hash"
	errEnded    = "run_ended"
	errOther    = "other"
)

func classify(err error) string {
	var ne net.Error
	var pe *peerwire.ProtocolError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errEnded
	case errors.Is(err, errSeederLacks):
		return errLacks
	case errors.Is(err, errHash):
		return errBadHash
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return errRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return errReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return errClosed
	case errors.As(err, &pe), errors.Is(err, peerwire.ErrBadLength):
		return errProtocol
	}
	return errOther
}
