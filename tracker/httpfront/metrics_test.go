package httpfront

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/bitorigin/bitorigin/metrics"
	"github.com/bitorigin/bitorigin/tracker"
)

// value returns the value of the series name{labels} in reg, or -1.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue series
				}
			}
			return metricValue(m)
		}
	}
	return -1
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

func TestRequestsAndDownloadsAreCounted(t *testing.T) {
	reg := metrics.NewRegistry("tracker")
	m, err := tracker.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	tt := newTestTracker(t, testOpts{cfg: tracker.Config{Metrics: m}, front: Config{Metrics: m}})
	if err := reg.Register(tt.store.Collector()); err != nil {
		t.Fatal(err)
	}
	h := hashN(1)
	tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 1, left: 10})
	tt.announceOK("10.0.0.2:1", announce{hash: h, peer: 2, left: 10})
	tt.announceOK("10.0.0.1:1", announce{hash: h, peer: 1, left: 0, event: "completed"})
	tt.get("10.0.0.3:1", "/announce?info_hash=short")
	tt.get("10.0.0.3:1", "/scrape?info_hash="+string(h[:]))

	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"bitorigin_tracker_requests_total", map[string]string{"protocol": "http", "action": "announce", "result": "ok"}, 3},
		{"bitorigin_tracker_requests_total", map[string]string{"protocol": "http", "action": "announce", "result": "client_error"}, 1},
		{"bitorigin_tracker_requests_total", map[string]string{"protocol": "http", "action": "scrape", "result": "ok"}, 1},
		{"bitorigin_tracker_request_duration_seconds", map[string]string{"protocol": "http", "action": "announce"}, 4},
		{"bitorigin_tracker_response_peers", map[string]string{"protocol": "http"}, 3},
		{"bitorigin_tracker_downloads_completed_total", nil, 1},
		{"bitorigin_tracker_store_duration_seconds", map[string]string{"operation": "announce"}, 3},
		{"bitorigin_tracker_store_errors_total", map[string]string{"operation": "announce"}, 0},
		{"bitorigin_tracker_torrents", nil, 1},
		{"bitorigin_tracker_peers", map[string]string{"role": "seeder", "family": "ipv4"}, 1},
		{"bitorigin_tracker_peers", map[string]string{"role": "leecher", "family": "ipv4"}, 1},
	}
	for _, c := range checks {
		if got := value(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
