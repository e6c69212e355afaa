package peerwire

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
)

// ExtensionHandshake is extended message 0, which each peer sends once
// after the handshake when both set Reserved.Extended (BEP 10). It is a
// bencoded dictionary; keys this type does not know are ignored, and so is a
// known key whose value has the wrong type or is out of the field's range
// (ReqQ and MetadataSize: [0, 2^31)). Zero fields are left out on the wire.
type ExtensionHandshake struct {
	// M maps the extensions the sender supports to the extended message ID
	// it wants to receive each with; 0 turns an extension off (BEP 10).
	// Decoding always makes M, possibly empty.
	M map[string]uint8
	// V is the client's name and version (BEP 10 "v").
	V string
	// P is the sender's TCP listen port (BEP 10 "p").
	P uint16
	// ReqQ is how many outstanding requests the sender queues (BEP 10 "reqq").
	ReqQ int
	// YourIP is the receiver's address as the sender sees it (BEP 10 "yourip").
	YourIP netip.Addr
	// MetadataSize is the size in bytes of the info dictionary, for ut_metadata
	// (BEP 9 "metadata_size").
	MetadataSize int
	// UploadOnly says the sender will not download (BEP 21 "upload_only").
	UploadOnly bool
}

// AppendTo appends the extension handshake as an extended message, with
// the dictionary's keys in sorted order as bencode requires.
func (h ExtensionHandshake) AppendTo(b []byte) []byte {
	start := len(b)
	b = appendExtendedHeader(b, ExtHandshakeID)
	b = append(b, 'd')
	b = append(appendStr(b, "m"), 'd')
	for _, name := range slices.Sorted(maps.Keys(h.M)) {
		b = appendInt(appendStr(b, name), int64(h.M[name]))
	}
	b = append(b, 'e')
	if h.MetadataSize != 0 {
		b = appendInt(appendStr(b, "metadata_size"), int64(h.MetadataSize))
	}
	if h.P != 0 {
		b = appendInt(appendStr(b, "p"), int64(h.P))
	}
	if h.ReqQ != 0 {
		b = appendInt(appendStr(b, "reqq"), int64(h.ReqQ))
	}
	if h.UploadOnly {
		b = appendInt(appendStr(b, "upload_only"), 1)
	}
	if h.V != "" {
		b = appendStr(appendStr(b, "v"), h.V)
	}
	if h.YourIP.Is4() {
		ip := h.YourIP.As4()
		b = appendStr(appendStr(b, "yourip"), ip[:])
	} else if h.YourIP.IsValid() {
		ip := h.YourIP.As16()
		b = appendStr(appendStr(b, "yourip"), ip[:])
	}
	b = append(b, 'e')
	return patchLength(b, start)
}

// ParseExtensionHandshake decodes an extended message with ExtID
// ExtHandshakeID. Malformed bencode is a *BencodeError; bytes after the
// dictionary are ignored.
func ParseExtensionHandshake(m *Extended) (*ExtensionHandshake, error) {
	if m.ExtID != ExtHandshakeID {
		return nil, fmt.Errorf("peerwire: extended message %d is not the extension handshake", m.ExtID)
	}
	h := &ExtensionHandshake{M: make(map[string]uint8)}
	var p, reqq, size, uploadOnly int64
	d := decoder{b: m.Payload}
	err := d.dict(func(key []byte) error {
		switch string(key) {
		case "m":
			if d.next() != 'd' {
				return d.skip()
			}
			return d.dict(func(name []byte) error {
				id := int64(-1)
				if err := d.intIn(&id, 0, math.MaxUint8); err != nil || id < 0 {
					return err
				}
				h.M[string(name)] = uint8(id)
				return nil
			})
		case "v":
			if !isDigit(d.next()) {
				return d.skip()
			}
			v, err := d.str()
			h.V = string(v)
			return err
		case "p":
			return d.intIn(&p, 0, math.MaxUint16)
		case "reqq":
			return d.intIn(&reqq, 0, math.MaxInt32)
		case "metadata_size":
			return d.intIn(&size, 0, math.MaxInt32)
		case "upload_only":
			return d.intIn(&uploadOnly, math.MinInt64, math.MaxInt64)
		case "yourip":
			if !isDigit(d.next()) {
				return d.skip()
			}
			ip, err := d.str()
			if a, ok := netip.AddrFromSlice(ip); ok {
				h.YourIP = a
			}
			return err
		}
		return d.skip()
	})
	if err != nil {
		return nil, fmt.Errorf("peerwire: extension handshake: %w", err)
	}
	h.P, h.ReqQ, h.MetadataSize, h.UploadOnly = uint16(p), int(reqq), int(size), uploadOnly != 0
	return h, nil
}

func (*ExtensionHandshake) message() {}
