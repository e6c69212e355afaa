package peerwire

import (
	"errors"
	"fmt"
	"math"

	"github.com/bitorigin/bitorigin/bencode"
)

// MetadataExtension is the name of metadata exchange in an
// ExtensionHandshake's M (BEP 9).
const MetadataExtension = "ut_metadata"

// MetadataPieceSize is the size of every piece of the info dictionary but
// the last (BEP 9).
const MetadataPieceSize = 16 << 10

// Metadata message types: the msg_type key of BEP 9.
const (
	metadataRequest = 0
	metadataData    = 1
	metadataReject  = 2
)

// ErrMetadata is returned (wrapped) by ParseMetadata for a ut_metadata
// message that is well-formed bencode but breaks BEP 9: a missing key, a
// piece out of range, data of the wrong size.
var ErrMetadata = errors.New("peerwire: bad ut_metadata message")

// ErrUnknownMetadataType is returned (wrapped) by ParseMetadata for a
// msg_type it does not know; BEP 9 says to ignore such messages.
var ErrUnknownMetadataType = errors.New("peerwire: unknown ut_metadata msg_type")

// MetadataRequest asks for one piece of the info dictionary (BEP 9 msg_type 0).
type MetadataRequest struct {
	ExtID uint8 // the ID the receiver assigned to ut_metadata
	Piece uint32
}

// AppendTo appends the request as an extended message.
func (m MetadataRequest) AppendTo(b []byte) []byte {
	return appendMetadata(b, m.ExtID, metadataRequest, m.Piece, 0, nil)
}

// MetadataData carries one piece of the info dictionary (BEP 9 msg_type 1):
// MetadataPieceSize bytes, fewer for the last piece.
type MetadataData struct {
	ExtID     uint8 // the ID the receiver assigned to ut_metadata
	Piece     uint32
	TotalSize int // of the whole info dictionary
	Data      []byte
}

// AppendTo appends the data message as an extended message: the bencoded
// dictionary, then the piece's bytes.
func (m MetadataData) AppendTo(b []byte) []byte {
	return appendMetadata(b, m.ExtID, metadataData, m.Piece, m.TotalSize, m.Data)
}

// MetadataReject refuses a MetadataRequest (BEP 9 msg_type 2).
type MetadataReject struct {
	ExtID uint8 // the ID the receiver assigned to ut_metadata
	Piece uint32
}

// AppendTo appends the reject as an extended message.
func (m MetadataReject) AppendTo(b []byte) []byte {
	return appendMetadata(b, m.ExtID, metadataReject, m.Piece, 0, nil)
}

// appendMetadata appends a ut_metadata message; total and data are only
// written for a data message.
func appendMetadata(b []byte, extID uint8, msgType int64, piece uint32, total int, data []byte) []byte {
	start := len(b)
	b = appendExtendedHeader(b, extID)
	b = bencode.AppendDict(b)
	b = bencode.AppendInt(bencode.AppendString(b, "msg_type"), msgType)
	b = bencode.AppendInt(bencode.AppendString(b, "piece"), int64(piece))
	if msgType == metadataData {
		b = bencode.AppendInt(bencode.AppendString(b, "total_size"), int64(total))
	}
	b = bencode.AppendEnd(b)
	b = append(b, data...)
	return patchLength(b, start)
}

// ParseMetadata decodes an extended message whose ExtID is the one we
// assigned to ut_metadata. It returns a *MetadataRequest, *MetadataData or
// *MetadataReject; a MetadataData's Data aliases m.Payload. Malformed
// bencode is a *BencodeError; the other failures wrap ErrMetadata or
// ErrUnknownMetadataType.
func ParseMetadata(m *Extended) (Message, error) {
	msgType, piece, total := int64(-1), int64(-1), int64(-1)
	d := bencode.NewDecoder(m.Payload)
	err := d.Dict(func(key []byte) error {
		switch string(key) {
		case "msg_type":
			return intIn(d, &msgType, 0, math.MaxInt64)
		case "piece":
			return intIn(d, &piece, 0, math.MaxUint32)
		case "total_size":
			return intIn(d, &total, 1, math.MaxInt32)
		}
		return nil // left unread: skipped
	})
	if err != nil {
		return nil, fmt.Errorf("peerwire: ut_metadata: %w", err)
	}
	if msgType < 0 || piece < 0 {
		return nil, fmt.Errorf("peerwire: ut_metadata without a valid msg_type and piece: %w", ErrMetadata)
	}
	rest := d.Rest()
	switch msgType {
	case metadataRequest:
		return &MetadataRequest{ExtID: m.ExtID, Piece: uint32(piece)}, nil
	case metadataReject:
		return &MetadataReject{ExtID: m.ExtID, Piece: uint32(piece)}, nil
	case metadataData:
		if total < 0 {
			return nil, fmt.Errorf("peerwire: ut_metadata data without a valid total_size: %w", ErrMetadata)
		}
		if want := metadataPieceLen(piece, total); len(rest) != want {
			return nil, fmt.Errorf("peerwire: ut_metadata piece %d of %d-byte metadata has %d bytes, want %d: %w",
				piece, total, len(rest), want, ErrMetadata)
		}
		return &MetadataData{ExtID: m.ExtID, Piece: uint32(piece), TotalSize: int(total), Data: rest}, nil
	}
	return nil, fmt.Errorf("peerwire: ut_metadata msg_type %d: %w", msgType, ErrUnknownMetadataType)
}

// metadataPieceLen is the size of piece of an info dictionary of total
// bytes, or -1 if there is no such piece.
func metadataPieceLen(piece, total int64) int {
	off := piece * MetadataPieceSize
	if off >= total {
		return -1
	}
	return int(min(total-off, MetadataPieceSize))
}

func (*MetadataRequest) message() {}
func (*MetadataData) message()    {}
func (*MetadataReject) message()  {}
