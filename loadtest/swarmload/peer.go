package swarmload

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"time"

	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/peerwire"
)

// ourMetadataID is the extended message ID we ask ut_metadata data to
// come with (BEP 9, BEP 10).
const ourMetadataID = 1

// peerConn is a connection to the seeder, or between trading leechers,
// whose handshakes are done.
type peerConn struct {
	nc   net.Conn
	br   *bufio.Reader
	w    *peerwire.Writer
	fast bool // both sides set the Fast extension bit (BEP 6)
	// stop ends the watch that closes nc when the run's context ends.
	stop func() bool
}

// newPeerID returns a fresh Azureus-style peer ID for one leecher.
func newPeerID() [20]byte {
	const chars = "0123456789abcdefghijklmnopqrstuvwxyz"
	var id [20]byte
	copy(id[:], "-LT0001-")
	rand.Read(id[8:])
	for i := 8; i < len(id); i++ {
		id[i] = chars[int(id[i])%len(chars)]
	}
	return id
}

// dialPeer connects to addr and exchanges the BEP 3 handshake and the
// BEP 10 extension handshake for info hash ih; who names the peer in
// errors ("seeder", "peer"). The connection closes when ctx ends, so
// every read and write on it is bounded by the run.
func dialPeer(ctx context.Context, who, addr string, ih, peerID [20]byte, timeout time.Duration) (*peerConn, error) {
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s %s: %w", who, addr, err)
	}
	c := newPeerConn(ctx, nc)
	if err := c.handshake(ih, peerID, timeout, false); err != nil {
		c.close()
		return nil, fmt.Errorf("%s %s: %w", who, addr, err)
	}
	return c, nil
}

// acceptPeer exchanges the handshakes on a connection a peer opened: its
// handshake must name info hash ih. The connection closes when ctx ends.
func acceptPeer(ctx context.Context, nc net.Conn, ih, peerID [20]byte, timeout time.Duration) (*peerConn, error) {
	c := newPeerConn(ctx, nc)
	if err := c.handshake(ih, peerID, timeout, true); err != nil {
		c.close()
		return nil, fmt.Errorf("peer %s: %w", nc.RemoteAddr(), err)
	}
	return c, nil
}

func newPeerConn(ctx context.Context, nc net.Conn) *peerConn {
	c := &peerConn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), w: peerwire.NewWriterSize(nc, 8<<10)}
	c.stop = context.AfterFunc(ctx, func() { nc.Close() })
	return c
}

// handshake sends ours and reads theirs, in the order of who opened the
// connection: the one that accepted answers only a handshake for a
// torrent it has (BEP 3).
func (c *peerConn) handshake(ih, peerID [20]byte, timeout time.Duration, incoming bool) error {
	if err := c.nc.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	read := func() (peerwire.Handshake, error) {
		theirs, err := peerwire.ReadHandshake(c.br)
		if err != nil {
			return theirs, fmt.Errorf("handshake: %w", err)
		}
		if theirs.InfoHash != ih {
			return theirs, fmt.Errorf("handshake: answered for info hash %x, want %x", theirs.InfoHash, ih)
		}
		return theirs, nil
	}
	var theirs peerwire.Handshake
	var err error
	if incoming {
		if theirs, err = read(); err != nil {
			return err
		}
	}
	h := peerwire.Handshake{InfoHash: ih, PeerID: peerID}
	h.Reserved.SetFast()
	h.Reserved.SetExtended()
	if err := c.w.WriteHandshake(h); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if !incoming {
		if theirs, err = read(); err != nil {
			return err
		}
	}
	c.fast = theirs.Reserved.Fast()
	if theirs.Reserved.Extended() {
		eh := peerwire.ExtensionHandshake{
			M: map[string]uint8{peerwire.MetadataExtension: ourMetadataID},
			V: version.Name + "-loadtest/" + version.Version,
		}
		c.w.Write(eh.AppendTo(c.w.AvailableBuffer()))
	}
	if c.fast {
		// BEP 6: with the Fast extension a peer says what it has at
		// once, here nothing; a trading leecher sends have messages for
		// what it has next.
		c.w.Write(peerwire.HaveNone{}.AppendTo(c.w.AvailableBuffer()))
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("after handshake: %w", err)
	}
	return c.nc.SetDeadline(time.Time{})
}

func (c *peerConn) close() {
	c.stop()
	c.nc.Close()
}
