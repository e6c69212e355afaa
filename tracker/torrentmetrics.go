package tracker

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
)

// torrentCollector reports seeders, leechers and downloads of each listed
// torrent. It labels series with info hashes, so it exists only where an
// allow list bounds the set of torrents and an operator turned it on.
type torrentCollector struct {
	t      *Tracker
	hashes func() []InfoHash
	desc   *prometheus.Desc
	dl     *prometheus.Desc
}

// TorrentCollector returns a collector of per-torrent gauges for the
// torrents hashes lists (the allow list). Each scrape asks the store for
// their counts, ScrapeMax at a time.
func (t *Tracker) TorrentCollector(hashes func() []InfoHash) prometheus.Collector {
	return &torrentCollector{
		t:      t,
		hashes: hashes,
		desc: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "torrent_peers"),
			"Peers of one allowed torrent, by role (seeder, leecher).", []string{"info_hash", "role"}, nil),
		dl: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "torrent_downloads"),
			"Downloads the store has counted for one allowed torrent.", []string{"info_hash"}, nil),
	}
}

func (c *torrentCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.dl
}

func (c *torrentCollector) Collect(ch chan<- prometheus.Metric) {
	all := c.hashes()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	step := c.t.cfg.ScrapeMax
	stats := make([]ScrapeStats, step)
	for i := 0; i < len(all); i += step {
		part := all[i:min(i+step, len(all))]
		if err := c.t.store.Scrape(ctx, part, stats[:len(part)]); err != nil {
			// The scrape shows the gap; the store failure is logged by
			// the requests that hit it.
			return
		}
		for j, h := range part {
			hex := h.String()
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(stats[j].Seeders), hex, "seeder")
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(stats[j].Leechers), hex, "leecher")
			ch <- prometheus.MustNewConstMetric(c.dl, prometheus.GaugeValue, float64(stats[j].Downloaded), hex)
		}
	}
}
