package peerwire

import "encoding/binary"

// ExtHandshakeID is the extended message ID of the extension handshake; every
// other ID is assigned by the receiver in its handshake's m dictionary
// (BEP 10).
const ExtHandshakeID = 0

// Extended is an extension protocol message (BEP 10), still undecoded.
// ParseExtensionHandshake and ParseMetadata decode the ones this package
// knows.
type Extended struct {
	// ExtID says which extended message this is: ExtHandshakeID, or the ID
	// the receiver assigned to an extension in its handshake.
	ExtID   uint8
	Payload []byte
}

// AppendTo appends the extended message.
func (m Extended) AppendTo(b []byte) []byte {
	b = appendHeader(b, 2+uint32(len(m.Payload)), IDExtended)
	b = append(b, m.ExtID)
	return append(b, m.Payload...)
}

// Unknown is a message whose ID this package does not know. The Reader
// returns it rather than an error so the caller can ignore it, as BEP 3
// asks; its length is capped like an extended message's.
type Unknown struct {
	ID      ID
	Payload []byte
}

// AppendTo appends the message as it was received.
func (m Unknown) AppendTo(b []byte) []byte {
	b = appendHeader(b, 1+uint32(len(m.Payload)), m.ID)
	return append(b, m.Payload...)
}

// appendExtendedHeader appends an extended message's header with a zero
// length prefix, for patchLength to fill in once the payload is appended.
func appendExtendedHeader(b []byte, extID uint8) []byte {
	return append(appendHeader(b, 0, IDExtended), extID)
}

// patchLength sets the length prefix of the message that starts at b[start:]
// and runs to the end of b.
func patchLength(b []byte, start int) []byte {
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

func (*Extended) message() {}
func (*Unknown) message()  {}
