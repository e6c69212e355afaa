package seeder

import (
	"testing"
	"time"
)

func TestRateLimiterSpreadsBlocksOverTime(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(100<<10, 16<<10, func() time.Time { return now })
	// The burst (16 KiB, above rate/10) goes at once; then each 16 KiB
	// block costs 160 ms of debt.
	if w := l.reserve(16 << 10); w != 0 {
		t.Fatalf("first block waits %s", w)
	}
	if w := l.reserve(16 << 10); w != 160*time.Millisecond {
		t.Fatalf("second block waits %s, want 160ms", w)
	}
	now = now.Add(time.Second) // pays the debt, refills up to the burst
	if w := l.reserve(16 << 10); w != 0 {
		t.Fatalf("after a second, block waits %s", w)
	}
}

func TestConfigValidateRefusesNonsense(t *testing.T) {
	for _, c := range []Config{
		{MaxRequest: 256 << 10},
		{MaxConns: -1},
		{UploadRate: -5},
		{KeepAlive: time.Hour},
		{HandshakeTimeout: -time.Second},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
