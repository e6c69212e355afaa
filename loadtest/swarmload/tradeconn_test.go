package swarmload

import (
	"testing"
	"time"
)

func TestAPeerIsAskedForAboutASecondOfWhatItSends(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64 // bytes per second
		pipeline int
		want     int
	}{
		{"rate not measured yet", 0, 64, minDepth},
		{"slow peer", 20 << 10, 64, minDepth},
		{"a megabyte a second", 1 << 20, 256, 64},
		{"fast peer, held to the pipeline", 100 << 20, 64, 64},
	}
	for _, tt := range tests {
		c := &tradeConn{t: &trader{cfg: &Config{BlockSize: 16 << 10}}, rate: tt.rate, pipeline: tt.pipeline}
		if got := c.depth(); got != tt.want {
			t.Errorf("%s: depth %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestTheRateIsMeasuredOverWindows(t *testing.T) {
	c := &tradeConn{windowAt: time.Now().Add(-500 * time.Millisecond)}
	c.measure(512 << 10) // half a second's worth at 1 MiB/s
	if c.rate < 0.9*(1<<20) || c.rate > 1.1*(1<<20) {
		t.Errorf("rate %.0f B/s, want about %d", c.rate, 1<<20)
	}
	if c.got != 0 {
		t.Errorf("%d bytes left in the closed window", c.got)
	}
}
