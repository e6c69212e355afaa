package memstore

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
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
			"Peers in all swarms, by role (seeder, leecher) and address family (ipv4, ipv6).", []string{"role", "family"}, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.torrents
	ch <- c.peers
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counts := c.s.Counts()
	ch <- prometheus.MustNewConstMetric(c.torrents, prometheus.GaugeValue, float64(counts.Torrents))
	labels := [numLists][2]string{
		seeders4:  {"seeder", "ipv4"},
		leechers4: {"leecher", "ipv4"},
		seeders6:  {"seeder", "ipv6"},
		leechers6: {"leecher", "ipv6"},
	}
	for l, n := range counts.Peers {
		ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(n), labels[l][0], labels[l][1])
	}
}
