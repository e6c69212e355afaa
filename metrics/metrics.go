// Package metrics builds the Prometheus registry each binary serves on its
// admin listener. There is no global registration: every component takes a
// prometheus.Registerer, so tests use fresh registries and two components
// can live in one process.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bitorigin/bitorigin/internal/version"
)

// Namespace starts every metric name of the project.
const Namespace = "bitorigin"

// NewRegistry returns a registry with the Go runtime, process and build
// information collectors, and a bitorigin_build_info gauge naming the
// component (tracker, seeder) and the version.
func NewRegistry(component string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace:   Namespace,
			Name:        "build_info",
			Help:        "Always 1; its labels name the component and the version it was built from.",
			ConstLabels: prometheus.Labels{"component": component, "version": version.Version},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Handler serves reg in the Prometheus exposition format, with promhttp's
// own request counters registered in reg too.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:          reg,
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	}))
}

// LatencyBuckets are the histogram buckets, in seconds, for request and
// store latencies: 50 µs to 5 s.
var LatencyBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// Register registers each collector with reg, stopping at the first that
// fails.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
