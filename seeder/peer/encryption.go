package peer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/mse"
	"github.com/bitorigin/bitorigin/peerwire"
)

// Encryption is the seeder's policy for Message Stream Encryption (MSE/PE),
// the obfuscated handshake clients such as libtorrent and Transmission
// speak. Encrypted and plain peers share the listening port: a plain
// handshake starts with byte 19 and "BitTorrent protocol", anything else is
// taken for an MSE handshake.
type Encryption int

const (
	// EncryptionPrefer accepts plain and encrypted peers; an encrypted
	// peer gets RC4 whenever it offers it. Leechers are dialled plain
	// (serving them costs no cipher), and one that hangs up on the plain
	// handshake, as peers that require encryption do, is dialled again
	// encrypted.
	EncryptionPrefer Encryption = iota
	// EncryptionRequire refuses plain peers, and plaintext offered inside
	// MSE; leechers are dialled encrypted.
	EncryptionRequire
	// EncryptionOff speaks plain BitTorrent only: MSE handshakes are
	// dropped.
	EncryptionOff
)

var encryptionNames = [...]string{EncryptionPrefer: "prefer", EncryptionRequire: "require", EncryptionOff: "off"}

// String is the policy's name, as ParseEncryption reads it.
func (e Encryption) String() string {
	if e >= 0 && int(e) < len(encryptionNames) {
		return encryptionNames[e]
	}
	return fmt.Sprintf("Encryption(%d)", int(e))
}

// ParseEncryption reads "prefer", "require" or "off".
func ParseEncryption(s string) (Encryption, error) {
	for i, n := range encryptionNames {
		if s == n {
			return Encryption(i), nil
		}
	}
	return 0, fmt.Errorf("encryption %q: want prefer, require or off", s)
}

// methods are the MSE crypto methods the policy accepts and offers.
func (e Encryption) methods() mse.Method {
	if e == EncryptionRequire {
		return mse.RC4
	}
	return mse.RC4 | mse.Plaintext
}

// protocolStart opens every plain handshake (BEP 3).
var protocolStart = append([]byte{19}, "BitTorrent protocol"...)

// errPlainRefused ends a plain handshake under EncryptionRequire.
var errPlainRefused = errors.New("plain handshake refused: encryption required")

// acceptEncryption tells an encrypted handshake from a plain one by its
// first bytes, which stay in c.br. An encrypted one is answered as the MSE
// responder, and c then reads and writes the decrypted stream. The
// handshake deadline is set.
func (c *Conn) acceptEncryption() error {
	first, err := c.br.Peek(len(protocolStart))
	if err != nil {
		return fmt.Errorf("reading the first bytes: %w", err)
	}
	if bytes.Equal(first, protocolStart) {
		if c.cfg.Encryption == EncryptionRequire {
			return errPlainRefused
		}
		return nil
	}
	if c.cfg.Encryption == EncryptionOff {
		return fmt.Errorf("not a BitTorrent handshake, and encryption is off: %x", first)
	}
	// c.br may hold bytes past the first: the handshake reads through it.
	ec, err := mse.Accept(c.nc, c.br, mse.Config{Methods: c.cfg.Encryption.methods(), SKeys: c.cfg.SKeys})
	if err != nil {
		return fmt.Errorf("encrypted handshake: %w", err)
	}
	c.useStream(ec)
	// The BitTorrent handshake, often inside IA, must be for the torrent
	// the MSE handshake named: 1+19 bytes of protocol, 8 reserved, then
	// the info hash.
	h, err := c.br.Peek(48)
	if err != nil {
		return fmt.Errorf("reading the handshake after MSE: %w", err)
	}
	if skey := ec.SKey(); !bytes.Equal(h[28:48], skey[:]) {
		return fmt.Errorf("handshake for info hash %x inside MSE for %x", h[28:48], skey)
	}
	c.cfg.Logger.Debug("encrypted handshake", "peer", c.addr, "method", ec.Method())
	return nil
}

// initiateEncryption runs the MSE initiator's side for c's torrent; c
// then reads and writes the stream that follows.
func (c *Conn) initiateEncryption() error {
	ec, err := mse.Initiate(c.nc, c.infoHash, mse.Config{Methods: c.cfg.Encryption.methods()})
	if err != nil {
		return fmt.Errorf("encrypted handshake: %w", err)
	}
	c.useStream(ec)
	return nil
}

// useStream makes c read and write the stream after an MSE handshake.
// The old reader holds raw bytes read ahead and stays the stream's source.
func (c *Conn) useStream(ec *mse.Conn) {
	c.nc = ec
	c.br = bufio.NewReaderSize(ec, 4<<10)
	c.w = peerwire.NewWriter(ec)
}

// Req2 is HASH('req2', info hash), memoised: a pure function of the
// info hash, so that finding the torrent of an MSE handshake costs a map
// lookup per torrent rather than a SHA-1.
func Req2(ih metainfo.InfoHash) [20]byte {
	v, ok := req2s.Load(ih)
	if !ok {
		v, _ = req2s.LoadOrStore(ih, mse.Req2(ih))
	}
	return v.([20]byte)
}

var req2s sync.Map // metainfo.InfoHash → [20]byte

// Open runs the handshake of a connection we opened to a peer of t at
// addr, which it greets with infoHash, plain or encrypted as the policy
// says, and returns it ready to Run. Under EncryptionPrefer a peer that
// hangs up on the plain handshake is dialled again, encrypted.
func Open(ctx context.Context, cfg *Config, t *Torrent, infoHash metainfo.InfoHash, addr netip.AddrPort, nc net.Conn) (*Conn, error) {
	switch cfg.Encryption {
	case EncryptionOff:
		return open(ctx, cfg, t, infoHash, nc, false)
	case EncryptionRequire:
		return open(ctx, cfg, t, infoHash, nc, true)
	}
	c, err := open(ctx, cfg, t, infoHash, nc, false)
	if err == nil || !hungUp(err) || ctx.Err() != nil {
		return c, err
	}
	d := net.Dialer{Timeout: cfg.HandshakeTimeout}
	nc, derr := d.DialContext(ctx, "tcp", addr.String())
	if derr != nil {
		return nil, fmt.Errorf("%w; dialling again to encrypt: %w", err, derr)
	}
	c, eerr := open(ctx, cfg, t, infoHash, nc, true)
	if eerr != nil {
		return nil, fmt.Errorf("%w; encrypted: %w", err, eerr)
	}
	return c, nil
}

// hungUp reports whether err says the peer closed the connection, as
// peers that require encryption do after a plain handshake.
func hungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// buffersWriter is a connection that gathers net.Buffers itself: an
// encrypted stream, to which net.Buffers.WriteTo would make one write per
// slice.
type buffersWriter interface {
	WriteBuffers(*net.Buffers) (int64, error)
}

// writeBuffers sends bufs to nc: one writev on a TCP connection, gathered
// encryption on an MSE stream.
func writeBuffers(nc net.Conn, bufs *net.Buffers) (int64, error) {
	if bw, ok := nc.(buffersWriter); ok {
		return bw.WriteBuffers(bufs)
	}
	return bufs.WriteTo(nc)
}
