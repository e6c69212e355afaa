package e2e

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackpal/bencode-go"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// TestTwoReplicasShareOneRedis announces to one tracker process and
// expects the other, on the same Redis, to hand the peer out and agree on
// the counts.
func TestTwoReplicasShareOneRedis(t *testing.T) {
	r := testenv.StartRedis(t)
	url := "redis://" + r.Addr + "/0"
	a := startTracker(t, "", nil, "--redis-url", url)
	b := startTracker(t, "", nil, "--redis-url", url)
	hash := bytes.Repeat([]byte{0x5a}, 20)

	announce(t, a.announceURL(), hash, "seeder-on-a", 7001, 0, "")
	announce(t, b.announceURL(), hash, "leecher-on-b", 7002, 10, "")
	got := announce(t, b.announceURL(), hash, "leecher-on-b", 7002, 10, "")
	if got.Failure != "" || got.Peers != "\x7f\x00\x00\x01\x1b\x59" {
		t.Fatalf("replica b: %+v, want the seeder announced to a", got)
	}
	fromA := announce(t, a.announceURL(), hash, "seeder-on-a", 7001, 0, "&event=completed")
	if fromA.Complete != 1 || fromA.Incomplete != 1 || fromA.Peers != "\x7f\x00\x00\x01\x1b\x5a" {
		t.Fatalf("replica a: %+v", fromA)
	}
	if got.Complete != fromA.Complete || got.Incomplete != fromA.Incomplete {
		t.Fatalf("replicas disagree: a %+v, b %+v", fromA, got)
	}
	if a.proc.Tail(2000) == "" || !strings.Contains(string(a.proc.Output()), "store=\"redis redis://") {
		t.Fatalf("tracker did not log its Redis store:\n%s", a.proc.Tail(2000))
	}
	// Both replicas export the shared totals: one seeder, one leecher.
	for name, tp := range map[string]*trackerProc{"a": a, "b": b} {
		checkSharedTotals(t, name, tp, 1, 1, 1)
	}
	promtoolCheck(t, "tracker on Redis", a.adminPort)
}

// checkSharedTotals reads a Redis-backed tracker's swarm totals from its
// /metrics.
func checkSharedTotals(t *testing.T, name string, tp *trackerProc, torrents, seeders, leechers float64) {
	t.Helper()
	m := scrapeMetrics(t, tp.adminPort)
	got := [3]float64{
		m[`bitorigin_tracker_torrents{store="redis"}`],
		m[`bitorigin_tracker_peers{family="ipv4",role="seeder",store="redis"}`],
		m[`bitorigin_tracker_peers{family="ipv4",role="leecher",store="redis"}`],
	}
	if got != [3]float64{torrents, seeders, leechers} {
		t.Errorf("replica %s exports torrents, IPv4 seeders, IPv4 leechers %v, want %v", name, got, [3]float64{torrents, seeders, leechers})
	}
}

// TestRedisOutageIsAFailureReasonAndHeals stops Redis under a running
// tracker and starts it again, empty.
func TestRedisOutageIsAFailureReasonAndHeals(t *testing.T) {
	r := testenv.StartRedis(t, "--requirepass", "s3cret-pw")
	tp := startTracker(t, "", []string{"TRACKER_REDIS_PASSWORD=s3cret-pw"}, "--redis-url", "redis://"+r.Addr+"/0", "--redis-timeout", "200ms")
	hash := bytes.Repeat([]byte{0x6b}, 20)
	if got := announce(t, tp.announceURL(), hash, "p1", 7001, 0, ""); got.Failure != "" {
		t.Fatalf("with Redis up: %s", got.Failure)
	}
	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", tp.adminPort)

	r.Proc.Stop(syscall.SIGKILL, time.Second)
	// Every announce fails within --redis-timeout (200ms), however many
	// arrive at once; the slack is for this loaded machine. go-redis's own
	// dial retries used to make each one take 800ms.
	const bound = 200*time.Millisecond + 300*time.Millisecond
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				got := announce(t, tp.announceURL(), hash, fmt.Sprintf("p%d", i), 7002+i, 10, "")
				d := time.Since(start)
				if !strings.Contains(got.Failure, "temporarily unavailable") {
					t.Errorf("round %d, announce %d with Redis down: %+v", round, i, got)
				}
				if d > bound {
					t.Errorf("round %d, announce %d took %s with Redis down and --redis-timeout 200ms", round, i, d)
				}
			}()
		}
		wg.Wait()
	}
	if t.Failed() {
		t.FailNow()
	}
	if code, _ := httpGet(t, readyz); code != 503 {
		t.Fatalf("/readyz with Redis down: %d", code)
	}
	healthz := fmt.Sprintf("http://127.0.0.1:%d/healthz", tp.adminPort)
	if code, _ := httpGet(t, healthz); code != 200 {
		t.Fatalf("/healthz must not depend on Redis: %d", code)
	}

	r.Restart()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := announce(t, tp.announceURL(), hash, "p1", 7001, 0, "")
		if got.Failure == "" && got.Complete == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracker did not recover after Redis came back: %+v\n%s", got, tp.proc.Tail(3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _ := httpGet(t, readyz); code != 200 {
		t.Fatalf("/readyz after recovery: %d", code)
	}
	out := string(tp.proc.Output())
	if n := strings.Count(out, "store failing"); n != 1 {
		t.Errorf("outage logged %d times, want once per burst:\n%s", n, out)
	}
	if !strings.Contains(out, "swarm store recovered") {
		t.Errorf("no recovery log:\n%s", out)
	}
	if strings.Contains(out, "s3cret-pw") {
		t.Errorf("the Redis password is in the log")
	}
}

// TestTrackerOnRedisCluster spreads many torrents over a three-master
// Cluster through the tracker binary.
func TestTrackerOnRedisCluster(t *testing.T) {
	addrs := testenv.StartRedisCluster(t)
	tp := startTracker(t, "", nil, "--redis-addrs", strings.Join(addrs, ","), "--redis-cluster")
	for n := range 60 {
		hash := bytes.Repeat([]byte{byte(n)}, 20)
		if got := announce(t, tp.announceURL(), hash, "seed", 7001, 0, ""); got.Failure != "" {
			t.Fatalf("torrent %d: %s", n, got.Failure)
		}
		if got := announce(t, tp.announceURL(), hash, "leech", 7002, 5, ""); got.Complete != 1 || len(got.Peers) != 6 {
			t.Fatalf("torrent %d: %+v", n, got)
		}
	}
	// One scrape for all of them, spread over the masters.
	q := ""
	for n := range 60 {
		q += "&info_hash=" + url.QueryEscape(string(bytes.Repeat([]byte{byte(n)}, 20)))
	}
	code, body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/scrape?%s", tp.httpPort, q[1:]))
	if code != 200 {
		t.Fatalf("scrape: HTTP %d", code)
	}
	v, err := bencode.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("scrape reply %q: %v", body, err)
	}
	files, _ := v.(map[string]any)["files"].(map[string]any)
	if len(files) != 60 {
		t.Fatalf("scrape listed %d torrents, want 60: %q", len(files), body)
	}
	for k, f := range files {
		st, _ := f.(map[string]any)
		if st["complete"] != int64(1) || st["incomplete"] != int64(1) {
			t.Fatalf("torrent %x: %v", k, st)
		}
	}
	// The totals, kept per slot, add up across the masters.
	checkSharedTotals(t, "on Cluster", tp, 60, 60, 60)
	// Every master holds some of the swarms.
	for _, a := range addrs {
		host, port, _ := strings.Cut(a, ":")
		out, err := testenv.RedisCLI(t, host, port, "dbsize")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) == "0" {
			t.Errorf("master %s holds no keys: swarms are not spread", a)
		}
	}
}

// TestTrackerSurvivesASentinelFailover runs the tracker binary on a master
// found through a Sentinel (--redis-master-name), kills the master, and
// expects the tracker to follow the promoted replica by itself.
func TestTrackerSurvivesASentinelFailover(t *testing.T) {
	rs := testenv.StartRedisSentinel(t)
	tp := startTracker(t, "", nil, "--redis-addrs", rs.Sentinel, "--redis-master-name", rs.MasterName)
	hash := bytes.Repeat([]byte{0x7c}, 20)
	if got := announce(t, tp.announceURL(), hash, "seeder", 7001, 0, ""); got.Failure != "" {
		t.Fatalf("through the Sentinel: %s", got.Failure)
	}
	if got := announce(t, tp.announceURL(), hash, "leecher", 7002, 10, ""); got.Complete != 1 || got.Incomplete != 1 {
		t.Fatalf("through the Sentinel: %+v", got)
	}
	if !strings.Contains(string(tp.proc.Output()), "store=\"redis sentinel "+rs.MasterName+"@"+rs.Sentinel) {
		t.Fatalf("tracker did not log its Sentinel store:\n%s", tp.proc.Tail(2000))
	}
	rs.WaitReplicated(t)

	rs.Master.Proc.Stop(syscall.SIGKILL, time.Second)
	rs.WaitFailover(t, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := announce(t, tp.announceURL(), hash, "leecher2", 7003, 10, "")
		if got.Failure == "" {
			if got.Complete != 1 || got.Incomplete != 2 {
				t.Fatalf("after failover: %+v, want the swarm as before plus one leecher", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracker did not follow the failover: %s\n%s", got.Failure, tp.proc.Tail(3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", tp.adminPort)); code != 200 {
		t.Fatalf("/readyz after failover: %d", code)
	}
	checkSharedTotals(t, "after failover", tp, 1, 1, 2)
}
