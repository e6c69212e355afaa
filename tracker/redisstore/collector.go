package redisstore

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
)

// collector reports the Redis connection pool when Prometheus scrapes.
type collector struct {
	s                             *Store
	hits, misses, timeouts, waits *prometheus.Desc
	conns                         *prometheus.Desc
}

// Collector returns a Prometheus collector of the Redis client's pool
// statistics. The store's swarm gauges are not among them: counting every
// swarm would mean walking the keyspace, which no replica does.
func (s *Store) Collector() prometheus.Collector {
	name := func(n string) string { return prometheus.BuildFQName(metrics.Namespace, "tracker", "redis_pool_"+n) }
	return &collector{
		s:        s,
		hits:     prometheus.NewDesc(name("hits_total"), "Times a free connection was found in the pool.", nil, nil),
		misses:   prometheus.NewDesc(name("misses_total"), "Times no free connection was in the pool, so one was dialled or waited for.", nil, nil),
		timeouts: prometheus.NewDesc(name("timeouts_total"), "Times waiting for a pooled connection timed out.", nil, nil),
		waits:    prometheus.NewDesc(name("waits_total"), "Times a request waited for a pooled connection.", nil, nil),
		conns:    prometheus.NewDesc(name("connections"), "Pooled connections by state (total, idle).", []string{"state"}, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.timeouts, c.waits, c.conns} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.c.PoolStats()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(st.Hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(st.Misses))
	ch <- prometheus.MustNewConstMetric(c.timeouts, prometheus.CounterValue, float64(st.Timeouts))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(st.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.TotalConns), "total")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.IdleConns), "idle")
}
