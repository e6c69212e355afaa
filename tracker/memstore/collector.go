package memstore

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
	"github.com/bitorigin/bitorigin/tracker"
)

// collector reports the store's swarm gauges when Prometheus scrapes.
type collector struct {
	s        *Store
	torrents *prometheus.Desc
	peers    *prometheus.Desc
}

// Collector returns a Prometheus collector of the store's gauges: torrents
// with peers, and peers by role and address family. Each scrape walks the
// torrents (not the peers), one shard lock at a time.
func (s *Store) Collector() prometheus.Collector {
	return &collector{
		s: s,
		torrents: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "torrents"),
			"Torrents with at least one peer.", nil, nil),
		peers: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "peers"),
			tracker.PeersHelp, []string{"role", "family"}, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.torrents
	ch <- c.peers
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	t := c.s.Counts().Totals()
	ch <- prometheus.MustNewConstMetric(c.torrents, prometheus.GaugeValue, float64(t.Torrents))
	for _, p := range t.Series() {
		ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(p.N), p.Role, p.Family)
	}
}
