package swarmload

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/seeder"
)

// tradeRun runs n trading leechers against a seeder of size bytes and
// checks that every one verified every piece.
func tradeRun(t *testing.T, n int, size int64, scfg seeder.Config, cfg Config) *Report {
	t.Helper()
	tor, addr := startSeederWith(t, size, scfg)
	cfg.Torrent, cfg.Seeder, cfg.Leechers, cfg.Trade = tor, addr, n, true
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.WriteText(&out)
	t.Log("\n" + out.String())
	if rep.Completed != n || rep.Failed != 0 {
		t.Fatalf("completed %d of %d, failed %d: %v", rep.Completed, n, rep.Failed, rep.ErrorExamples)
	}
	if want := int64(n) * tor.Info.TotalLength(); rep.Bytes != want {
		t.Errorf("verified %d bytes, want %d", rep.Bytes, want)
	}
	if rep.HashFailures != 0 {
		t.Errorf("%d hash failures", rep.HashFailures)
	}
	if err := rep.Check(); err != nil {
		t.Error(err)
	}
	return rep
}

func TestTradingLeechersTakeMostFromEachOtherWhenTheOriginOffloads(t *testing.T) {
	const (
		n    = 20
		size = 2 << 20
	)
	scfg := seeder.Config{Offload: true, UploadRate: 2 << 20}
	cfg := Config{LeecherUploadRate: 4 << 20}
	on := tradeRun(t, n, size, scfg, cfg)
	// The origin reveals distinct pieces to distinct leechers: about one
	// copy leaves it, a little more for leechers it found starving.
	if on.FromPeers == 0 || on.OriginCopies >= n/4 {
		t.Errorf("offload on: origin sent %.2f copies for %d leechers, %d bytes came from peers", on.OriginCopies, n, on.FromPeers)
	}
	b, err := json.Marshal(on)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(); err != nil || !back.Trade || back.OriginCopies != on.OriginCopies || back.LeecherUploadRate != 4<<20 {
		t.Errorf("report after a JSON round trip: %v, %+v", err, back)
	}

	// The same swarm from an origin that serves every piece to everyone:
	// it uploads at its cap all along.
	scfg.Offload = false
	off := tradeRun(t, n, size, scfg, cfg)
	t.Logf("the origin sent %.2f copies with offload, %.2f without", on.OriginCopies, off.OriginCopies)
	if off.FromSeeder <= on.FromSeeder {
		t.Errorf("the origin sent %d bytes with offload off, no more than %d with it on", off.FromSeeder, on.FromSeeder)
	}
}

func TestTradingLeechersKeepToTheirUploadCap(t *testing.T) {
	const (
		n    = 6
		rate = 512 << 10
	)
	// An uncapped origin that offloads: the leechers' caps are what
	// limits the run.
	rep := tradeRun(t, n, 1<<20, seeder.Config{Offload: true}, Config{LeecherUploadRate: rate, BlockSize: 16 << 10})
	burst := max(rate/10, 16<<10)
	if most := float64(n) * (rate*rep.Duration + float64(burst)); float64(rep.Uploaded) > most*1.05 {
		t.Errorf("%d leechers capped at %d B/s uploaded %d bytes in %.2fs, more than %.0f", n, rate, rep.Uploaded, rep.Duration, most)
	}
	if rep.Uploaded == 0 {
		t.Error("the leechers uploaded nothing to each other")
	}
}
