package peerwire

import (
	"errors"
	"fmt"

	"github.com/bitorigin/bitorigin/bencode"
)

// ErrBadLength is returned (wrapped) when a message's length prefix does not
// fit its ID: a fixed-size message of the wrong size, a bitfield that is not
// exactly the torrent's size, a piece or extended message too short to hold
// its header. MessageTooLongError matches it too.
var ErrBadLength = errors.New("peerwire: bad message length")

// MessageTooLongError is returned when a length prefix exceeds what its
// message ID may carry. The Reader returns it before reading or allocating
// anything of the message body.
type MessageTooLongError struct {
	ID     ID
	Length uint32 // the length prefix, the ID byte included
	Max    uint32 // the largest length accepted for ID
}

// Error says which message was too long and by how much.
func (e *MessageTooLongError) Error() string {
	return fmt.Sprintf("peerwire: %v message of length %d exceeds %d", e.ID, e.Length, e.Max)
}

// Is makes errors.Is(err, ErrBadLength) true for a MessageTooLongError.
func (e *MessageTooLongError) Is(target error) bool { return target == ErrBadLength }

// ProtocolError is returned when a handshake does not start with the BEP 3
// protocol string: the peer speaks something else (an encrypted stream,
// HTTP, a port scanner).
type ProtocolError struct {
	// Got is what the peer sent: the length byte and as much of the string
	// as was read.
	Got []byte
}

// Error shows what the peer sent instead of the protocol string.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("peerwire: handshake starts with %q, want %q", e.Got, "\x13"+Protocol)
}

// BencodeError is returned when the bencoded part of an extended message
// (BEP 10 handshake, BEP 9 ut_metadata, BEP 11 ut_pex) is malformed. Its
// Offset counts from the start of the extended payload, after the extended
// message ID.
type BencodeError = bencode.Error
