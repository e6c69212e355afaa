package trackerload

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

func TestOpenLoopSendsOnScheduleAndEveryRequestIsAccounted(t *testing.T) {
	cfg := short(startHTTPTracker(t, tracker.Config{}))
	cfg.Rate = 1000
	rep := mustRun(t, cfg)
	if rep.Errors != 0 {
		t.Errorf("%d errors: %v", rep.Errors, rep.ErrorExamples)
	}
	if rep.Intended < 900 || rep.Intended > 1100 {
		t.Errorf("intended %d requests in 1s at 1000/s", rep.Intended)
	}
	if rep.Sent != rep.Responses+rep.Errors || rep.Latency.Count != rep.Responses {
		t.Errorf("sent %d, responses %d, errors %d, latencies %d", rep.Sent, rep.Responses, rep.Errors, rep.Latency.Count)
	}
	for _, a := range []Action{ActionStarted, ActionNone, ActionScrape} {
		if rep.Actions[a.String()].OK == 0 {
			t.Errorf("no successful %s: %+v", a, rep.Actions)
		}
	}
	if rep.PeersPerAnswer <= 0 || rep.PeersMax > 50 {
		t.Errorf("peers per answer %g, max %d (numwant 50)", rep.PeersPerAnswer, rep.PeersMax)
	}
	if rep.Latency.P50 <= 0 || rep.Latency.P50 > rep.Latency.P99 || rep.Latency.P99 > rep.Latency.Max {
		t.Errorf("latency percentiles out of order: %+v", rep.Latency)
	}
}

func TestUDPTargetAnnouncesAndScrapes(t *testing.T) {
	cfg := short(startUDPTracker(t, tracker.Config{}))
	cfg.Rate = 500
	cfg.Concurrency = 8
	cfg.Warmup = 0 // so that getting connection IDs is measured
	rep := mustRun(t, cfg)
	if rep.Errors != 0 || rep.Responses == 0 {
		t.Fatalf("%d responses, %d errors: %v", rep.Responses, rep.Errors, rep.ErrorExamples)
	}
	if rep.Protocol != "udp" || rep.UDPConnects == 0 || rep.UDPConnects > 8 {
		t.Errorf("protocol %s, %d connects for 8 sockets", rep.Protocol, rep.UDPConnects)
	}
	if rep.Actions["scrape"].OK == 0 || rep.PeersPerAnswer == 0 {
		t.Errorf("actions %+v, peers per answer %g", rep.Actions, rep.PeersPerAnswer)
	}
}

func TestClosedLoopKeepsWorkersBusy(t *testing.T) {
	cfg := short(startHTTPTracker(t, tracker.Config{}))
	cfg.Workers = 4
	cfg.ConnClose = true
	rep := mustRun(t, cfg)
	if rep.Mode != "closed" || rep.Connection != "close" || rep.Slots != 4 {
		t.Errorf("mode %s, connection %s, slots %d", rep.Mode, rep.Connection, rep.Slots)
	}
	if rep.Responses < 100 || rep.Errors != 0 || rep.Dropped != 0 {
		t.Errorf("%d responses, %d errors, %d dropped in 1s with 4 workers", rep.Responses, rep.Errors, rep.Dropped)
	}
}

func TestRealisticPeersComeBackAfterTheScaledInterval(t *testing.T) {
	cfg := short(startHTTPTracker(t, tracker.Config{Interval: 2 * time.Second, MinInterval: time.Second, Jitter: -1}))
	cfg.Realistic = true
	cfg.IntervalScale = 0.25 // 2s becomes 0.5s
	cfg.Peers = 100
	cfg.Warmup = 500 * time.Millisecond
	rep := mustRun(t, cfg)
	// 100 peers every 0.5s for 1s: about 200.
	if rep.Sent < 150 || rep.Sent > 260 {
		t.Errorf("sent %d, want about 200", rep.Sent)
	}
	if rep.Errors != 0 || rep.Mode != "realistic" || rep.TargetRate != 0 {
		t.Errorf("errors %d, mode %s, target rate %g", rep.Errors, rep.Mode, rep.TargetRate)
	}
}

// recorder is a fake HTTP tracker that remembers every announce and
// answers after delay.
type recorder struct {
	mu        sync.Mutex
	announces []map[string]string
	delay     time.Duration
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(rec.delay)
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	if strings.HasSuffix(r.URL.Path, "/announce") {
		rec.mu.Lock()
		rec.announces = append(rec.announces, q)
		rec.mu.Unlock()
		fmt.Fprint(w, "d8:intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe1e")
		return
	}
	fmt.Fprint(w, "d5:filesdee")
}

func startRecorder(t *testing.T, delay time.Duration) (*recorder, string) {
	t.Helper()
	rec := &recorder{delay: delay}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rec, "http://" + ln.Addr().String() + "/announce"
}

func TestPeersKeepTheirIdentityAndStartBeforeAnythingElse(t *testing.T) {
	rec, url := startRecorder(t, 0)
	cfg := short(url)
	cfg.Rate = 400
	cfg.Peers = 20 // few peers, so each announces many times
	cfg.Concurrency = 8
	mustRun(t, cfg)
	type identity struct{ port, key string }
	seen := map[string]identity{}
	active := map[string]bool{}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.announces) < 200 {
		t.Fatalf("only %d announces", len(rec.announces))
	}
	for _, q := range rec.announces {
		id := q["peer_id"]
		who := identity{q["port"], q["key"]}
		if old, ok := seen[id]; ok && old != who {
			t.Fatalf("peer %q announced with port and key %v, then %v", id, old, who)
		}
		seen[id] = who
		switch ev := q["event"]; {
		case ev == "started":
			active[id] = true
		case !active[id]:
			t.Fatalf("peer %q sent event %q before started", id, ev)
		case ev == "stopped":
			active[id] = false
		}
		if len(q["info_hash"]) != 20 || q["compact"] != "1" {
			t.Fatalf("announce %v: bad info hash or not compact", q)
		}
	}
	if len(seen) < 10 || len(seen) > 20 {
		t.Errorf("%d distinct peers announced, want most of the 20", len(seen))
	}
}

func TestLatencyCountsFromTheIntendedSendTime(t *testing.T) {
	// A tracker that takes 100ms per answer, two requests at a time, asked
	// for 50 a second: the schedule falls behind, and the latency must
	// show the waiting, not just the 100ms of each exchange.
	_, url := startRecorder(t, 100*time.Millisecond)
	cfg := short(url)
	cfg.Rate = 50
	cfg.Concurrency = 2
	cfg.Timeout = 400 * time.Millisecond
	cfg.Warmup = 0
	rep := mustRun(t, cfg)
	if rep.Backlogged == 0 || rep.Dropped == 0 {
		t.Errorf("backlogged %d, dropped %d: want both", rep.Backlogged, rep.Dropped)
	}
	if rep.Latency.P90 < 250 {
		t.Errorf("p90 %.1fms: the time waiting for a slot is not counted", rep.Latency.P90)
	}
	if rep.Latency.Max > 400+150 {
		t.Errorf("max %.1fms: a request older than the time-out was sent", rep.Latency.Max)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/announce"
	ln.Close() // nothing listens: every request is refused
	cfg := short(url)
	cfg.Rate = 100
	cfg.Warmup = 0
	cfg.Duration = 300 * time.Millisecond
	rep := mustRun(t, cfg)
	if rep.Responses != 0 || rep.Errors == 0 || rep.ErrorClasses[errRefused] != rep.Errors {
		t.Errorf("responses %d, errors %d by class %v (%v)", rep.Responses, rep.Errors, rep.ErrorClasses, rep.ErrorExamples)
	}
}

func TestReportSurvivesJSON(t *testing.T) {
	cfg := short(startHTTPTracker(t, tracker.Config{}))
	cfg.Rate = 300
	cfg.Duration = 300 * time.Millisecond
	rep := mustRun(t, cfg)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(); err != nil {
		t.Errorf("after a JSON round trip: %v", err)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "p99.9") {
		t.Errorf("text report (%v):\n%s", err, text.String())
	}
}
