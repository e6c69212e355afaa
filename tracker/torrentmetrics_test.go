package tracker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

func TestPerTorrentSeriesCoverTheListedTorrents(t *testing.T) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tr, err := tracker.New(tracker.Config{ScrapeMax: 2}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	var resp tracker.AnnounceResponse
	req := tracker.AnnounceRequest{InfoHash: storetest.Hash(1), PeerID: storetest.ID(1), Addr: storetest.Addr4(1), Left: 0, NumWant: -1, Event: tracker.EventCompleted}
	if err := tr.Announce(context.Background(), &req, &resp); err != nil {
		t.Fatal(err)
	}
	listed := []tracker.InfoHash{storetest.Hash(1), storetest.Hash(2), storetest.Hash(3)}
	reg := prometheus.NewRegistry()
	reg.MustRegister(tr.TorrentCollector(func() []tracker.InfoHash { return listed }))
	// Three torrents, scraped two at a time: two role series and one
	// download series each.
	if n := testutil.CollectAndCount(tr.TorrentCollector(func() []tracker.InfoHash { return listed })); n != 9 {
		t.Fatalf("%d series, want 9", n)
	}
	want := `
# HELP bitorigin_tracker_torrent_downloads Downloads the store has counted for one allowed torrent.
# TYPE bitorigin_tracker_torrent_downloads gauge
bitorigin_tracker_torrent_downloads{info_hash="` + storetest.Hash(1).String() + `"} 1
bitorigin_tracker_torrent_downloads{info_hash="` + storetest.Hash(2).String() + `"} 0
bitorigin_tracker_torrent_downloads{info_hash="` + storetest.Hash(3).String() + `"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "bitorigin_tracker_torrent_downloads"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}
