package peerwire

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"

	"github.com/bitorigin/bitorigin/bencode"
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
	b = bencode.AppendDict(b)
	b = bencode.AppendDict(bencode.AppendString(b, "m"))
	for _, name := range slices.Sorted(maps.Keys(h.M)) {
		b = bencode.AppendInt(bencode.AppendString(b, name), int64(h.M[name]))
	}
	b = bencode.AppendEnd(b)
	if h.MetadataSize != 0 {
		b = bencode.AppendInt(bencode.AppendString(b, "metadata_size"), int64(h.MetadataSize))
	}
	if h.P != 0 {
		b = bencode.AppendInt(bencode.AppendString(b, "p"), int64(h.P))
	}
	if h.ReqQ != 0 {
		b = bencode.AppendInt(bencode.AppendString(b, "reqq"), int64(h.ReqQ))
	}
	if h.UploadOnly {
		b = bencode.AppendInt(bencode.AppendString(b, "upload_only"), 1)
	}
	if h.V != "" {
		b = bencode.AppendString(bencode.AppendString(b, "v"), h.V)
	}
	if h.YourIP.Is4() {
		ip := h.YourIP.As4()
		b = bencode.AppendBytes(bencode.AppendString(b, "yourip"), ip[:])
	} else if h.YourIP.IsValid() {
		ip := h.YourIP.As16()
		b = bencode.AppendBytes(bencode.AppendString(b, "yourip"), ip[:])
	}
	b = bencode.AppendEnd(b)
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
	d := bencode.NewDecoder(m.Payload)
	err := d.Dict(func(key []byte) error {
		switch string(key) {
		case "m":
			if d.Kind() != bencode.Dict {
				return nil
			}
			return d.Dict(func(name []byte) error {
				id := int64(-1)
				if err := intIn(d, &id, 0, math.MaxUint8); err != nil || id < 0 {
					return err
				}
				h.M[string(name)] = uint8(id)
				return nil
			})
		case "v":
			if d.Kind() != bencode.String {
				return nil
			}
			v, err := d.Bytes()
			h.V = string(v)
			return err
		case "p":
			return intIn(d, &p, 0, math.MaxUint16)
		case "reqq":
			return intIn(d, &reqq, 0, math.MaxInt32)
		case "metadata_size":
			return intIn(d, &size, 0, math.MaxInt32)
		case "upload_only":
			return intIn(d, &uploadOnly, math.MinInt64, math.MaxInt64)
		case "yourip":
			var ip []byte
			err := bytesIn(d, &ip)
			if a, ok := netip.AddrFromSlice(ip); ok {
				h.YourIP = a
			}
			return err
		}
		return nil // left unread: skipped
	})
	if err != nil {
		return nil, fmt.Errorf("peerwire: extension handshake: %w", err)
	}
	h.P, h.ReqQ, h.MetadataSize, h.UploadOnly = uint16(p), int(reqq), int(size), uploadOnly != 0
	return h, nil
}

func (*ExtensionHandshake) message() {}
