package peerwire

import (
	"fmt"
	"io"
)

// Protocol is the protocol string every BEP 3 handshake starts with, after
// its length byte.
const Protocol = "BitTorrent protocol"

// HandshakeLen is the length of a whole handshake on the wire.
const HandshakeLen = 1 + len(Protocol) + 8 + 20 + 20

// handshakeStartLen is what ReadHandshakeStart reads: everything up to and
// including the info hash.
const handshakeStartLen = HandshakeLen - 20

// Reserved is the handshake's eight reserved bytes, in which peers announce
// the extensions they support.
type Reserved [8]byte

// Fast reports the Fast extension bit, reserved[7]&0x04 (BEP 6). The
// extension is on only when both peers set it.
func (r Reserved) Fast() bool { return r[7]&0x04 != 0 }

// Extended reports the extension protocol bit, reserved[5]&0x10 (BEP 10).
func (r Reserved) Extended() bool { return r[5]&0x10 != 0 }

// DHT reports the DHT bit, reserved[7]&0x01 (BEP 5): the peer may send a port
// message.
func (r Reserved) DHT() bool { return r[7]&0x01 != 0 }

// SetFast sets the Fast extension bit (BEP 6).
func (r *Reserved) SetFast() { r[7] |= 0x04 }

// SetExtended sets the extension protocol bit (BEP 10).
func (r *Reserved) SetExtended() { r[5] |= 0x10 }

// SetDHT sets the DHT bit (BEP 5): we run a DHT node and send a port
// message to peers that set it too.
func (r *Reserved) SetDHT() { r[7] |= 0x01 }

// Handshake is the first thing each peer sends (BEP 3).
type Handshake struct {
	Reserved Reserved
	InfoHash [20]byte
	PeerID   [20]byte
}

// AppendTo appends the handshake as it goes on the wire to b.
func (h Handshake) AppendTo(b []byte) []byte {
	b = append(b, byte(len(Protocol)))
	b = append(b, Protocol...)
	b = append(b, h.Reserved[:]...)
	b = append(b, h.InfoHash[:]...)
	return append(b, h.PeerID[:]...)
}

// ReadHandshake reads a whole handshake. It returns a *ProtocolError if the
// peer does not speak BEP 3, io.EOF if r ends before the first byte and
// io.ErrUnexpectedEOF (wrapped) if it ends later.
func ReadHandshake(r io.Reader) (Handshake, error) {
	h, err := ReadHandshakeStart(r)
	if err != nil {
		return h, err
	}
	h.PeerID, err = ReadPeerID(r)
	return h, err
}

// ReadHandshakeStart reads a handshake up to and including the info hash,
// leaving PeerID zero. A seeder of many torrents calls it to look the info
// hash up before answering, then ReadPeerID: some clients send their peer ID
// only after they have seen ours. It reads nothing past the info hash.
//
// Errors are those of ReadHandshake. A wrong length byte is reported at
// once, without waiting for the rest.
func ReadHandshakeStart(r io.Reader) (Handshake, error) {
	var h Handshake
	var buf [handshakeStartLen]byte
	if _, err := io.ReadFull(r, buf[:1]); err != nil {
		return h, err
	}
	if buf[0] != byte(len(Protocol)) {
		return h, &ProtocolError{Got: []byte{buf[0]}}
	}
	if _, err := io.ReadFull(r, buf[1:]); err != nil {
		return h, fmt.Errorf("peerwire: reading handshake: %w", unexpected(err))
	}
	if string(buf[1:1+len(Protocol)]) != Protocol {
		return h, &ProtocolError{Got: append([]byte(nil), buf[:1+len(Protocol)]...)}
	}
	rest := buf[1+len(Protocol):]
	copy(h.Reserved[:], rest[:8])
	copy(h.InfoHash[:], rest[8:])
	return h, nil
}

// ReadPeerID reads the last 20 bytes of a handshake, after
// ReadHandshakeStart. An early end is io.ErrUnexpectedEOF (wrapped): the
// handshake was already under way.
func ReadPeerID(r io.Reader) ([20]byte, error) {
	var id [20]byte
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return id, fmt.Errorf("peerwire: reading handshake peer ID: %w", unexpected(err))
	}
	return id, nil
}

// unexpected turns io.EOF into io.ErrUnexpectedEOF, for reads that happen
// in the middle of something.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
