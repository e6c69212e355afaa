package peerwire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// recorder remembers every slice it was asked to write.
type recorder struct {
	writes [][]byte
	err    error
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	r.writes = append(r.writes, p)
	return len(p), nil
}

func (r *recorder) bytes() []byte { return bytes.Join(r.writes, nil) }

func TestWriterBatchesUntilFlush(t *testing.T) {
	rec := &recorder{}
	w := NewWriter(rec)
	var h Handshake
	h.Reserved.SetFast()
	if err := w.WriteHandshake(h); err != nil {
		t.Fatal(err)
	}
	for _, m := range []Message{&HaveAll{}, &Unchoke{}, &Have{Index: 3}} {
		if err := w.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteKeepAlive(); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 0 {
		t.Fatalf("%d writes before Flush", len(rec.writes))
	}
	want := h.AppendTo(nil)
	want = append(want, unhex(t, "00000001 0e  00000001 01  00000005 04 00000003  00000000")...)
	if w.Buffered() != len(want) {
		t.Fatalf("Buffered() = %d, want %d", w.Buffered(), len(want))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 1 || !bytes.Equal(rec.bytes(), want) {
		t.Fatalf("Flush wrote %d times: %x\nwant once: %x", len(rec.writes), rec.bytes(), want)
	}
	if err := w.Flush(); err != nil || len(rec.writes) != 1 || w.Buffered() != 0 {
		t.Fatal("a second Flush wrote again")
	}
}

func TestWriterSendsAFullBatch(t *testing.T) {
	rec := &recorder{}
	w := NewWriterSize(rec, 64)
	for i := range 5 { // 5 * 17 bytes
		if err := w.WriteMessage(&Request{Index: uint32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.writes) != 1 || len(rec.writes[0]) != 68 || w.Buffered() != 17 {
		t.Fatalf("after 85 bytes with a batch of 64: %d writes, %d buffered", len(rec.writes), w.Buffered())
	}
}

func TestWritePieceDoesNotCopyTheBlock(t *testing.T) {
	rec := &recorder{}
	w := NewWriter(rec)
	block := bytes.Repeat([]byte{7}, 16<<10)
	if err := w.WriteMessage(&Have{Index: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePiece(2, 0x4000, block); err != nil {
		t.Fatal(err)
	}
	last := rec.writes[len(rec.writes)-1]
	if &last[0] != &block[0] {
		t.Fatal("the block was copied before being written")
	}
	want := unhex(t, "00000005 04 00000001  00004009 07 00000002 00004000")
	want = append(want, block...)
	if !bytes.Equal(rec.bytes(), want) || w.Buffered() != 0 {
		t.Fatalf("wrote %d bytes, %d buffered: the batch and the piece, in order, were not sent", len(rec.bytes()), w.Buffered())
	}

	// A *Piece passed to WriteMessage takes the same path.
	if err := w.WriteMessage(&Piece{Index: 1, Block: block}); err != nil {
		t.Fatal(err)
	}
	if last := rec.writes[len(rec.writes)-1]; &last[0] != &block[0] {
		t.Fatal("WriteMessage(*Piece) copied the block")
	}
}

func TestWritePieceBatchesATinyBlock(t *testing.T) {
	rec := &recorder{}
	w := NewWriter(rec)
	if err := w.WritePiece(0, 0, []byte("tiny")); err != nil {
		t.Fatal(err)
	}
	if len(rec.writes) != 0 || w.Buffered() != 13+4 {
		t.Fatalf("a 4-byte block was not batched: %d writes, %d buffered", len(rec.writes), w.Buffered())
	}
}

func TestWriterErrorsAreSticky(t *testing.T) {
	boom := errors.New("boom")
	rec := &recorder{err: boom}
	w := NewWriter(rec)
	if err := w.WriteMessage(&Choke{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != boom {
		t.Fatalf("Flush = %v, want %v", err, boom)
	}
	rec.err = nil
	for _, err := range []error{
		w.WriteMessage(&Unchoke{}), w.WriteKeepAlive(), w.WritePiece(0, 0, make([]byte, 1024)), w.Flush(),
	} {
		if err != boom {
			t.Fatalf("after a failed write: %v, want %v", err, boom)
		}
	}
	if len(rec.writes) != 0 {
		t.Fatal("the Writer wrote after an error")
	}
}

func TestAvailableBufferAppendsWithoutAllocating(t *testing.T) {
	w := NewWriter(io.Discard)
	req := Request{Index: 1, Begin: 2, Length: 3}
	if raceEnabled {
		t.Skip("the race detector allocates; `make test` runs this without -race")
	}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := w.Write(req.AppendTo(w.AvailableBuffer())); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Write(AppendTo(AvailableBuffer())): %v allocations", n)
	}
}

func TestWritePieceOverTCPArrivesWhole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	block := make([]byte, 16<<10)
	for i := range block {
		block[i] = byte(i * 7)
	}
	const pieces = 50
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		w := NewWriter(c)
		for i := range pieces {
			if err := w.WriteMessage(&Have{Index: uint32(i)}); err != nil {
				done <- err
				return
			}
			if err := w.WritePiece(uint32(i), 0, block); err != nil {
				done <- err
				return
			}
		}
		done <- w.Flush()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := NewReader(bufio.NewReader(c), ReaderConfig{MaxBlock: 16 << 10})
	for i := range pieces {
		m, err := r.ReadMessage()
		if h, ok := m.(*Have); err != nil || !ok || h.Index != uint32(i) {
			t.Fatalf("message %d: %#v, %v; want have", 2*i, m, err)
		}
		m, err = r.ReadMessage()
		if p, ok := m.(*Piece); err != nil || !ok || p.Index != uint32(i) || !bytes.Equal(p.Block, block) {
			t.Fatalf("message %d: %v; want piece %d", 2*i+1, err, i)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
