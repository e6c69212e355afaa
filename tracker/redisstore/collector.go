package redisstore

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
	"github.com/bitorigin/bitorigin/tracker"
)

// collector reports the swarm totals and the Redis connection pool when
// Prometheus scrapes.
type collector struct {
	s                             *Store
	torrents, peers               *prometheus.Desc
	hits, misses, timeouts, waits *prometheus.Desc
	conns                         *prometheus.Desc
	answers, sampled              *prometheus.Desc
}

// Collector returns a Prometheus collector of the swarm totals (the memory
// store's series, read from Redis and labelled store="redis", so that every
// replica exports the shared totals) and of the Redis client's pool
// statistics.
// When Redis does not answer within a second, the totals are left out of
// that scrape rather than reported as zero.
func (s *Store) Collector() prometheus.Collector {
	name := func(n string) string { return prometheus.BuildFQName(metrics.Namespace, "tracker", "redis_pool_"+n) }
	// Every replica on one Redis exports the same totals: the label tells
	// dashboards to take one of them rather than sum them.
	shared := prometheus.Labels{"store": "redis"}
	return &collector{
		s: s,
		torrents: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "torrents"),
			"Torrents with at least one peer.", nil, shared),
		peers: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "peers"),
			tracker.PeersHelp, []string{"role", "family"}, shared),
		hits:     prometheus.NewDesc(name("hits_total"), "Times a free connection was found in the pool.", nil, nil),
		misses:   prometheus.NewDesc(name("misses_total"), "Times no free connection was in the pool, so one was dialled or waited for.", nil, nil),
		timeouts: prometheus.NewDesc(name("timeouts_total"), "Times waiting for a pooled connection timed out.", nil, nil),
		waits:    prometheus.NewDesc(name("waits_total"), "Times a request waited for a pooled connection.", nil, nil),
		conns:    prometheus.NewDesc(name("connections"), "Pooled connections by state (total, idle).", []string{"state"}, nil),
		answers: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "redis_answers_total"),
			"Announce answers with peers by where the peers came from: drawn in Redis (small or quiet swarms, sampling off, or while a new sample is on its way and the old one falls short), this replica's sample of the swarm, or a new sample drawn in Redis for it.", []string{"peers"}, nil),
		sampled: prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, "tracker", "redis_sampled_swarms"),
			"Swarm address families (busy ones of 64 peers or more) of which this replica holds a sample.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.torrents, c.peers, c.hits, c.misses, c.timeouts, c.waits, c.conns, c.answers, c.sampled} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if t, err := c.s.Totals(context.Background()); err == nil {
		ch <- prometheus.MustNewConstMetric(c.torrents, prometheus.GaugeValue, float64(t.Torrents))
		for _, p := range t.Series() {
			ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(p.N), p.Role, p.Family)
		}
	}
	st := c.s.c.PoolStats()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(st.Hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(st.Misses))
	ch <- prometheus.MustNewConstMetric(c.timeouts, prometheus.CounterValue, float64(st.Timeouts))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(st.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.TotalConns), "total")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.IdleConns), "idle")
	for i, from := range answerSources {
		ch <- prometheus.MustNewConstMetric(c.answers, prometheus.CounterValue, float64(c.s.answers[i].Load()), from)
	}
	ch <- prometheus.MustNewConstMetric(c.sampled, prometheus.GaugeValue, float64(c.s.samples.len()))
}
