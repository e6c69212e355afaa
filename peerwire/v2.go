package peerwire

import (
	"encoding/binary"
	"fmt"
)

// Message IDs of BitTorrent v2, BEP 52: hashes of a file's merkle tree.
const (
	IDHashRequest ID = 21
	IDHashes      ID = 22
	IDHashReject  ID = 23
)

// V2 reports whether the peer speaks BitTorrent v2 (BEP 52: the fourth
// most significant bit of the last reserved byte).
func (r Reserved) V2() bool { return r[7]&0x10 != 0 }

// SetV2 announces BitTorrent v2 (BEP 52).
func (r *Reserved) SetV2() { r[7] |= 0x10 }

// hashHeaderLen is the payload a hash request, hashes and hash reject
// message start with: the pieces root and four 32-bit fields.
const hashHeaderLen = 32 + 4*4

// HashRange names hashes of one file's merkle tree (BEP 52): Length hashes
// from Index in layer BaseLayer (0 is the 16 KiB blocks), with the uncle
// hashes of ProofLayers layers above them that prove them to the root.
type HashRange struct {
	PiecesRoot  [32]byte
	BaseLayer   uint32
	Index       uint32
	Length      uint32
	ProofLayers uint32
}

func (h HashRange) appendTo(b []byte, id ID, extra int) []byte {
	b = appendHeader(b, uint32(1+hashHeaderLen+extra), id)
	b = append(b, h.PiecesRoot[:]...)
	b = binary.BigEndian.AppendUint32(b, h.BaseLayer)
	b = binary.BigEndian.AppendUint32(b, h.Index)
	b = binary.BigEndian.AppendUint32(b, h.Length)
	return binary.BigEndian.AppendUint32(b, h.ProofLayers)
}

func parseHashRange(p []byte) HashRange {
	be := binary.BigEndian
	var h HashRange
	copy(h.PiecesRoot[:], p)
	h.BaseLayer, h.Index, h.Length, h.ProofLayers = be.Uint32(p[32:]), be.Uint32(p[36:]), be.Uint32(p[40:]), be.Uint32(p[44:])
	return h
}

// HashRequest asks for the hashes of a HashRange (BEP 52).
type HashRequest HashRange

// AppendTo appends the hash request message.
func (m HashRequest) AppendTo(b []byte) []byte { return HashRange(m).appendTo(b, IDHashRequest, 0) }

// HashReject refuses a HashRequest, repeating its range (BEP 52).
type HashReject HashRange

// AppendTo appends the hash reject message.
func (m HashReject) AppendTo(b []byte) []byte { return HashRange(m).appendTo(b, IDHashReject, 0) }

// Hashes answers a HashRequest: the range, then its Length hashes and the
// proof's uncle hashes, 32 bytes each, lowest layer first (BEP 52). A
// Reader's Hashes holds its payload in place: valid until the next read.
type Hashes struct {
	HashRange
	Hashes []byte
}

// AppendTo appends the hashes message.
func (m Hashes) AppendTo(b []byte) []byte {
	return append(m.HashRange.appendTo(b, IDHashes, len(m.Hashes)), m.Hashes...)
}

func (*HashRequest) message() {}
func (*HashReject) message()  {}
func (*Hashes) message()      {}

// decodeV2 fills in a v2 message from its payload, whose length the Reader
// checked against hashLimits.
func decodeV2(id ID, p []byte) (Message, error) {
	h := parseHashRange(p)
	switch id {
	case IDHashRequest:
		m := HashRequest(h)
		return &m, nil
	case IDHashReject:
		m := HashReject(h)
		return &m, nil
	}
	hashes := p[hashHeaderLen:]
	if len(hashes)%32 != 0 {
		return nil, fmt.Errorf("peerwire: hashes message with %d bytes of hashes, not a multiple of 32: %w", len(hashes), ErrBadLength)
	}
	return &Hashes{HashRange: h, Hashes: hashes}, nil
}
