package mse

import (
	"crypto/rc4"
	"io"
	"net"
	"sync"
)

// writeChunk is the most bytes encrypted at once for one write: the size of
// a Conn's write buffer once it is full grown.
const writeChunk = 64 << 10

// Conn is the stream after a handshake: with RC4 selected, Read decrypts
// and Write encrypts; with plaintext, both pass through. Deadlines,
// addresses and Close are the underlying connection's.
//
// Writes never modify the caller's bytes: they are encrypted into a
// buffer the Conn keeps.
type Conn struct {
	net.Conn
	method Method
	skey   [20]byte

	rmu     sync.Mutex
	r       io.Reader   // the raw stream, with bytes the handshake read ahead
	dec     *rc4.Cipher // nil for plaintext
	initial []byte      // the rest of IA, already decrypted

	wmu  sync.Mutex
	enc  *rc4.Cipher // nil for plaintext
	wbuf []byte
}

func newConn(c net.Conn, r io.Reader, m Method, skey [20]byte, enc, dec *rc4.Cipher, ia []byte) *Conn {
	cc := &Conn{Conn: c, method: m, skey: skey, r: r, initial: ia}
	if m == RC4 {
		cc.enc, cc.dec = enc, dec
	}
	return cc
}

// Method is the selected crypto method: RC4 or Plaintext.
func (c *Conn) Method() Method { return c.method }

// SKey is the SKEY (info hash) the handshake was for.
func (c *Conn) SKey() [20]byte { return c.skey }

// Read reads the initial payload first, then the stream.
func (c *Conn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.initial) > 0 {
		n := copy(b, c.initial)
		c.initial = c.initial[n:]
		return n, nil
	}
	n, err := c.r.Read(b)
	if c.dec != nil {
		c.dec.XORKeyStream(b[:n], b[:n])
	}
	return n, err
}

// Write sends b, encrypted when RC4 was selected. After an error the
// stream is out of step with the peer's cipher and must be closed.
func (c *Conn) Write(b []byte) (int, error) {
	if c.enc == nil {
		return c.Conn.Write(b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n := 0
	for len(b) > 0 {
		k := min(len(b), writeChunk)
		buf := c.buffer(k)
		c.enc.XORKeyStream(buf, b[:k])
		m, err := c.Conn.Write(buf)
		n += m
		if err != nil {
			return n, err
		}
		b = b[k:]
	}
	return n, nil
}

// WriteBuffers sends bufs as one stream and consumes them, as
// net.Buffers.WriteTo does. Encrypted, the slices are gathered into one
// buffer, so a small message header goes out with the block after it
// rather than in a packet of its own; plaintext, they go to the underlying
// connection's WriteTo (one writev on a TCP connection).
func (c *Conn) WriteBuffers(bufs *net.Buffers) (int64, error) {
	if c.enc == nil {
		return bufs.WriteTo(c.Conn)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var total int64
	for len(*bufs) > 0 {
		// Gather up to writeChunk bytes from the slices.
		size := 0
		for _, b := range *bufs {
			size += len(b)
			if size >= writeChunk {
				break
			}
		}
		if size == 0 {
			*bufs = (*bufs)[len(*bufs):]
			break
		}
		buf := c.buffer(min(size, writeChunk))
		n := 0
		for n < len(buf) {
			b := (*bufs)[0]
			k := copy(buf[n:], b)
			c.enc.XORKeyStream(buf[n:n+k], b[:k])
			n += k
			if k == len(b) {
				*bufs = (*bufs)[1:]
			} else {
				(*bufs)[0] = b[k:]
			}
		}
		m, err := c.Conn.Write(buf)
		total += int64(m)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// buffer returns n bytes of the write buffer, growing it up to writeChunk:
// a connection that only ever sends small messages keeps a small one.
func (c *Conn) buffer(n int) []byte {
	if cap(c.wbuf) < n {
		c.wbuf = make([]byte, max(n, min(2*cap(c.wbuf), writeChunk)))
	}
	return c.wbuf[:n]
}
