package peer

import (
	"io"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/ratelimit"
)

// A rate limit whose burst exceeds a batch's buffer must not let a batch
// of large blocks overrun it: a peer queueing 32 requests of 128 KiB
// crashed the seeder.
func TestRateLimitedBatchOfLargeBlocksFitsTheBuffer(t *testing.T) {
	tor, data := testTorrent(t, 4<<20, 256<<10)
	cfg := testConfig()
	cfg.MaxRequest = maxRequestLimit
	cfg.Limiter = ratelimit.New(100<<20, maxRequestLimit, time.Now)
	var out recordConn
	c := testConn(cfg, tor, &out)
	c.mu.Lock()
	for i := range maxBatch {
		c.queue.push(peerwire.Request{Index: uint32(i / 2), Begin: uint32(i%2) * maxRequestLimit, Length: maxRequestLimit})
	}
	c.mu.Unlock()
	for c.queue.len() > 0 {
		if _, err := c.writeStep(); err != nil {
			t.Fatal(err)
		}
	}
	if want := maxBatch * (peerwire.PieceHeaderLen + maxRequestLimit); len(out.b) != want {
		t.Fatalf("sent %d bytes, want %d", len(out.b), want)
	}
	// The last block is the data's at its offset.
	last := out.b[len(out.b)-maxRequestLimit:]
	off := (maxBatch - 1) * maxRequestLimit
	if string(last) != string(data[off:off+maxRequestLimit]) {
		t.Fatal("last block differs from the data")
	}
}

// recordConn is a net.Conn that keeps what is written to it.
type recordConn struct {
	discardConn
	b []byte
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.b = append(r.b, p...)
	return len(p), nil
}

// BenchmarkServeBlock measures the block-serving hot path, metrics on:
// take a queued request, read the block from disk, write it with its
// header.
func BenchmarkServeBlock(b *testing.B) {
	tor, _ := testTorrent(b, 4<<20, 256<<10)
	cfg := testConfig()
	cfg.Metrics = testMetrics()
	c := testConn(cfg, tor, discardConn{})
	c.w = peerwire.NewWriter(io.Discard)
	r := peerwire.Request{Length: 16 << 10}
	b.SetBytes(16 << 10)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Index = uint32(i % 16)
		c.mu.Lock()
		c.queue.push(r)
		c.mu.Unlock()
		if _, err := c.writeStep(); err != nil {
			b.Fatal(err)
		}
	}
}
