package mse

import (
	"crypto/rc4"
	"net"
	"testing"
)

// discardConn swallows writes.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkWriteBuffersRC4 measures serving a batch as the seeder does:
// 32 piece headers and 16 KiB blocks, encrypted into the Conn's buffer.
func BenchmarkWriteBuffersRC4(b *testing.B) {
	enc, _ := rc4.NewCipher([]byte("benchmark key"))
	c := newConn(discardConn{}, nil, RC4, [20]byte{}, enc, nil, nil)
	hdr, block := make([]byte, 13), make([]byte, 16<<10)
	iov := make([][]byte, 0, 64)
	for range 32 {
		iov = append(iov, hdr, block)
	}
	b.SetBytes(int64(32 * (len(hdr) + len(block))))
	b.ReportAllocs()
	// WriteBuffers consumes the slice headers, as net.Buffers.WriteTo
	// does; like the seeder, keep them in a struct on the heap.
	scratch := make(net.Buffers, len(iov))
	held := &struct{ bufs net.Buffers }{}
	for b.Loop() {
		copy(scratch, iov)
		held.bufs = scratch
		if _, err := c.WriteBuffers(&held.bufs); err != nil {
			b.Fatal(err)
		}
	}
}
