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

// The offload policy asks whether the origin's uplink is idle as it hears
// that a piece was sent whole; the connection that sent it must not look
// busy then, nor idle while its blocks are on their way. The seeder's
// count of busy connections follows.
func TestAConnectionIsBusyWhileRequestsWaitOrBlocksAreSent(t *testing.T) {
	tor, _ := testTorrent(t, 4*16<<10, 16<<10)
	tor.Offload = true
	cfg := testConfig()
	cfg.Uplink = &Uplink{}
	var c *Conn
	// busy checks that the connection and the uplink agree, and returns it.
	busy := func(when string) bool {
		t.Helper()
		b := c.Busy()
		if n := cfg.Uplink.Busy(); n != map[bool]int64{false: 0, true: 1}[b] {
			t.Fatalf("%s: connection busy %v, uplink counts %d busy", when, b, n)
		}
		return b
	}
	var busyAtHave []bool
	tor.Have = func(_ *Conn, _ uint32) { busyAtHave = append(busyAtHave, busy("at have")) }
	var busyAtWrite []bool
	out := &hookConn{onWrite: func() { busyAtWrite = append(busyAtWrite, busy("at write")) }}
	c = testConn(cfg, tor, out)
	if busy("new") {
		t.Fatal("busy with nothing queued")
	}
	enqueue(c, peerwire.Request{Index: 1, Length: 16 << 10})
	if !busy("queued") {
		t.Fatal("not busy with a request queued")
	}
	if _, err := c.writeStep(); err != nil {
		t.Fatal(err)
	}
	if len(busyAtWrite) == 0 || !busyAtWrite[0] {
		t.Fatalf("busy while writing the block: %v, want true", busyAtWrite)
	}
	if len(busyAtHave) != 1 || busyAtHave[0] {
		t.Fatalf("busy when the piece counted as sent whole: %v, want false once", busyAtHave)
	}
	if busy("sent") {
		t.Fatal("busy after the batch was sent")
	}
	// A cancel empties the queue; so does a choke.
	r := peerwire.Request{Index: 2, Length: 16 << 10}
	enqueue(c, r)
	c.onCancel(r)
	if busy("cancelled") {
		t.Fatal("busy after its one request was cancelled")
	}
	c.SetChoked(false)
	enqueue(c, r)
	c.SetChoked(true)
	if busy("choked") {
		t.Fatal("busy after its requests were dropped by a choke")
	}
	enqueue(c, r)
	c.Close(nil)
	if busy("closed") {
		t.Fatal("a closed connection is busy")
	}
}

// enqueue queues a request as onRequest does.
func enqueue(c *Conn, r peerwire.Request) {
	c.mu.Lock()
	c.queue.push(r)
	c.noteBusy()
	c.mu.Unlock()
}

// hookConn is a net.Conn that calls onWrite on every write.
type hookConn struct {
	discardConn
	onWrite func()
}

func (h *hookConn) Write(p []byte) (int, error) {
	h.onWrite()
	return len(p), nil
}

func (h *hookConn) Close() error { return nil }
