package redisstore

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

// BenchmarkScriptCost measures the announce script inside Redis: the
// usec_per_call of EVALSHA in INFO commandstats, and the commands the script
// ran per call, over re-announces of 200 peers in each of 10 swarms, each
// asking for 50 peers: single-stack peers without a key and with one, and
// dual-stack peers (the same peer ID and key over both families), answered
// from the replica's samples; single-stack peers with every answer drawn in
// Redis; and keyed single-stack peers in 200 swarms of 20, too small to
// sample. Run with -benchtime=8000x or so, or through
// scripts/bench-script.sh, which counts the instructions Redis spends
// (repeatable on a busy machine, where the microseconds are not).
func BenchmarkScriptCost(b *testing.B) {
	for _, c := range []struct {
		name          string
		dual, nokey   bool
		sampleUses    int
		swarms, peers int
	}{
		{"no-key", false, true, 0, 10, 200}, {"single-stack", false, false, 0, 10, 200}, {"dual-stack", true, false, 0, 10, 200},
		// Every answer drawn in Redis, as before the replica's samples.
		{"single-stack-drawn", false, false, -1, 10, 200},
		// Swarms too small to sample.
		{"small-swarms", false, false, 0, 200, 20},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := testenv.StartRedis(b)
			cl, err := NewClient(ClientConfig{URL: "redis://" + r.Addr, Timeout: 2 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			s, err := New(Config{Client: cl, Timeout: 10 * time.Second, SampleUses: c.sampleUses})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			swarms, peers := c.swarms, c.peers
			announce := func(i int) {
				n := i % (swarms * peers)
				pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(n % swarms), PeerID: storetest.ID(n), Key: storetest.Key(n),
					Addr: storetest.Addr4(n), Seeder: n%4 == 0, NumWant: 50}
				if c.nokey {
					pa.Key = 0
				}
				if c.dual && i/(swarms*peers)%2 == 1 {
					pa.Addr = storetest.Addr6(n)
				}
				var out tracker.SwarmAnswer
				if err := s.Announce(context.Background(), pa, &out); err != nil {
					b.Fatal(err)
				}
			}
			for i := range 2 * swarms * peers {
				announce(i)
			}
			if _, err := r.CLI("CONFIG", "RESETSTAT"); err != nil {
				b.Fatal(err)
			}
			if os.Getenv("SCRIPT_COST_CALLGRIND") != "" {
				// redis-server runs under callgrind (scripts/bench-script.sh):
				// count only the announces measured below.
				if out, err := exec.Command("callgrind_control", "-z").CombinedOutput(); err != nil {
					b.Fatal(err, string(out))
				}
			}
			i := 0
			for b.Loop() {
				announce(i)
				i++
			}
			stats, err := r.CLI("INFO", "commandstats")
			if err != nil {
				b.Fatal(err)
			}
			m := regexp.MustCompile(`cmdstat_evalsha:calls=(\d+),usec=\d+,usec_per_call=([0-9.]+)`).FindStringSubmatch(stats)
			if m == nil {
				b.Fatalf("no evalsha in %s", stats)
			}
			usec, _ := strconv.ParseFloat(m[2], 64)
			b.ReportMetric(usec, "usec/evalsha")
			// The commands the scripts ran, per script call.
			evals, _ := strconv.ParseFloat(m[1], 64)
			var cmds float64
			for _, c := range regexp.MustCompile(`cmdstat_(\w+):calls=(\d+)`).FindAllStringSubmatch(stats, -1) {
				if c[1] != "evalsha" && c[1] != "info" && c[1] != "config|resetstat" {
					n, _ := strconv.ParseFloat(c[2], 64)
					cmds += n
				}
			}
			b.ReportMetric(cmds/evals, "calls/evalsha")
		})
	}
}
