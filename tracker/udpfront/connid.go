package udpfront

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/netip"
	"time"
)

// connIDWindow is how long one window of connection IDs lasts. An ID is
// accepted in its own window and the next, so it lives one to two windows:
// BEP 15 asks clients to reconnect after one minute, and two minutes is the
// most a tracker should honour.
const connIDWindow = time.Minute

// connIDs issues and checks connection IDs without keeping state: an ID is
// an HMAC of the client's address and the time window under a secret, so
// any replica with the same secret accepts an ID another issued. One value
// serves one goroutine (the hash is reused).
type connIDs struct {
	mac hash.Hash
	buf [8 + 16 + 2]byte
	sum []byte
	now func() time.Time
}

func newConnIDs(secret []byte, now func() time.Time) *connIDs {
	return &connIDs{mac: hmac.New(sha256.New, secret), sum: make([]byte, 0, sha256.Size), now: now}
}

func (c *connIDs) window() int64 { return c.now().UnixNano() / int64(connIDWindow) }

func (c *connIDs) make(addr netip.AddrPort, window int64) uint64 {
	binary.BigEndian.PutUint64(c.buf[:8], uint64(window))
	a := addr.Addr().As16()
	copy(c.buf[8:24], a[:])
	binary.BigEndian.PutUint16(c.buf[24:], addr.Port())
	c.mac.Reset()
	c.mac.Write(c.buf[:])
	c.sum = c.mac.Sum(c.sum[:0])
	return binary.BigEndian.Uint64(c.sum)
}

// issue returns the connection ID for addr in the current window.
func (c *connIDs) issue(addr netip.AddrPort) uint64 { return c.make(addr, c.window()) }

// valid reports whether id was issued to addr in this window or the last.
// Comparing two uint64 is one instruction, so it takes the same time
// whatever the bytes.
func (c *connIDs) valid(addr netip.AddrPort, id uint64) bool {
	w := c.window()
	return c.make(addr, w) == id || c.make(addr, w-1) == id
}
