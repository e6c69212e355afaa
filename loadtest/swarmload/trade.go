package swarmload

import (
	"context"
	"sync"

	"github.com/bitorigin/bitorigin/metainfo"
)

// trade runs cfg.Leechers trading leechers against the seeder at addr and
// returns what each did, once every one is done or failed. The leechers
// learn of each other here, as a tracker would introduce them: each
// listens first, then dials the others peerGraph gives it.
func trade(ctx context.Context, cfg *Config, t *metainfo.Torrent, addr string, lv *live) []leecherResult {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	store := newPieceStore(uint32(t.Info.NumPieces()))
	traders := make([]*trader, cfg.Leechers)
	results := make([]leecherResult, cfg.Leechers)
	listening := make([]bool, cfg.Leechers)
	addrs := make([]string, cfg.Leechers)
	for i := range traders {
		traders[i] = newTrader(ctx, i, cfg, t, addr, store, lv)
		if err := traders[i].listen(); err != nil {
			results[i].err = err
			lv.failed.Add(1)
			continue
		}
		listening[i] = true
		addrs[i] = traders[i].ln.Addr().String()
	}
	graph := peerGraph(cfg.Leechers, cfg.PeersPerLeecher, 1)
	var wg sync.WaitGroup
	for i, tr := range traders {
		if !listening[i] {
			continue
		}
		var peers []string
		for _, j := range graph[i] {
			if listening[j] {
				peers = append(peers, addrs[j])
			}
		}
		wg.Go(func() { results[i] = tr.run(peers) })
	}
	wg.Wait()
	// Every leecher is done or failed: the ones still serving stop now.
	stop()
	for i, tr := range traders {
		tr.wg.Wait()
		results[i].uploaded = tr.uploaded.Load()
	}
	return results
}
