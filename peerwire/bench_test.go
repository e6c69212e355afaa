package peerwire

import (
	"io"
	"net"
	"testing"
	"time"
)

// The hot paths: a seeder reads requests and writes pieces, a downloader
// (the load tester) writes requests and reads pieces. Each should run
// without allocating once warmed up.

func BenchmarkReadRequest(b *testing.B) {
	r := NewReader(&repeatReader{b: (&Request{Index: 7, Begin: 0x4000, Length: 0x4000}).AppendTo(nil)}, ReaderConfig{})
	b.ReportAllocs()
	for b.Loop() {
		m, err := r.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		if m.(*Request).Length != 0x4000 {
			b.Fatal("wrong request")
		}
	}
}

func BenchmarkReadPiece(b *testing.B) {
	msg := (&Piece{Index: 7, Begin: 0x4000, Block: make([]byte, 16<<10)}).AppendTo(nil)
	r := NewReader(&repeatReader{b: msg}, ReaderConfig{MaxBlock: 16 << 10})
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteRequest(b *testing.B) {
	w := NewWriter(io.Discard)
	req := Request{Index: 7, Begin: 0x4000, Length: 0x4000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(req.AppendTo(w.AvailableBuffer())); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWritePiece(b *testing.B) {
	w := NewWriter(io.Discard)
	block := make([]byte, 16<<10)
	b.SetBytes(int64(pieceHeaderLen + len(block)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WritePiece(7, 0x4000, block); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWritePieceTCP measures WritePiece where it matters: on a loopback
// TCP connection, through writev.
func BenchmarkWritePieceTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	w := NewWriter(c)
	block := make([]byte, 16<<10)
	b.SetBytes(int64(pieceHeaderLen + len(block)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WritePiece(7, 0x4000, block); err != nil {
			b.Fatal(err)
		}
	}
}
