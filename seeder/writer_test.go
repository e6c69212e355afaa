package seeder

import (
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/peerwire"
)

// A rate limit whose burst exceeds a batch's buffer must not let a batch
// of large blocks overrun it: a peer queueing 32 requests of 128 KiB
// crashed the seeder.
func TestRateLimitedBatchOfLargeBlocksFitsTheBuffer(t *testing.T) {
	tor, data := testTorrent(t, 4<<20, 256<<10)
	s, err := New(Config{UploadRate: 100 << 20, MaxRequest: MaxRequestLimit}, []*Torrent{tor})
	if err != nil {
		t.Fatal(err)
	}
	var out recordConn
	c := &conn{s: s, sw: s.list[0], nc: &out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.w = peerwire.NewWriter(&out)
	c.timer = time.NewTimer(time.Hour)
	c.timer.Stop()
	c.mu.Lock()
	for i := range maxBatch {
		c.queue.push(peerwire.Request{Index: uint32(i / 2), Begin: uint32(i%2) * MaxRequestLimit, Length: MaxRequestLimit})
	}
	c.mu.Unlock()
	for c.queue.len() > 0 {
		if _, err := c.writeStep(); err != nil {
			t.Fatal(err)
		}
	}
	if want := maxBatch * (peerwire.PieceHeaderLen + MaxRequestLimit); len(out.b) != want {
		t.Fatalf("sent %d bytes, want %d", len(out.b), want)
	}
	// The last block is the data's at its offset.
	last := out.b[len(out.b)-MaxRequestLimit:]
	off := (maxBatch - 1) * MaxRequestLimit
	if string(last) != string(data[off:off+MaxRequestLimit]) {
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
