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
	const n = 20
	scfg := seeder.Config{Offload: true, UploadRate: 4 << 20}
	on := tradeRun(t, n, 4<<20, scfg, Config{LeecherUploadRate: 2 << 20})
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
	if err := back.Check(); err != nil || !back.Trade || back.OriginCopies != on.OriginCopies || back.LeecherUploadRate != 2<<20 {
		t.Errorf("report after a JSON round trip: %v, %+v", err, back)
	}

	scfg.Offload = false
	off := tradeRun(t, n, 4<<20, scfg, Config{LeecherUploadRate: 2 << 20})
	if off.FromSeeder <= on.FromSeeder {
		t.Errorf("the origin sent %d bytes with offload off, no more than %d with it on", off.FromSeeder, on.FromSeeder)
	}
}
