// Package udpwire encodes and decodes the packets of the UDP tracker
// protocol (BEP 15) with the URL-data option of BEP 41. It is a pure codec:
// bytes in, values out, no sockets. The tracker, the seeder's announcer and
// the load tester share it.
package udpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ProtocolID is the magic constant of a connect request (BEP 15).
const ProtocolID uint64 = 0x41727101980

// Action is a packet's action field.
type Action uint32

// Actions (BEP 15).
const (
	ActionConnect  Action = 0
	ActionAnnounce Action = 1
	ActionScrape   Action = 2
	ActionError    Action = 3
)

// Event is the event field of a UDP announce. Its numbering differs from
// the HTTP protocol's order.
type Event uint32

// Events (BEP 15).
const (
	EventNone      Event = 0
	EventCompleted Event = 1
	EventStarted   Event = 2
	EventStopped   Event = 3
)

// Sizes of the fixed parts of packets.
const (
	ConnectRequestSize   = 16
	ConnectResponseSize  = 16
	AnnounceRequestSize  = 98
	AnnounceResponseSize = 20 // before the peers
	ScrapeRequestSize    = 16 // before the info hashes
	ScrapeResponseSize   = 8  // before the counts
	ErrorResponseSize    = 8  // before the message
)

// MaxScrapeHashes is the most info hashes one scrape packet may carry, so
// that its answer fits one packet.
const MaxScrapeHashes = 74

// Errors the decoders return.
var (
	ErrShort       = errors.New("udpwire: packet too short")
	ErrProtocolID  = errors.New("udpwire: connect request without the protocol ID")
	ErrAction      = errors.New("udpwire: unexpected action")
	ErrScrapeSize  = errors.New("udpwire: scrape length is not a whole number of info hashes")
	ErrTooMany     = errors.New("udpwire: too many info hashes in one scrape")
	ErrOptionShort = errors.New("udpwire: truncated announce option")
)

var be = binary.BigEndian

// Header is the start of every request: connection ID, action and
// transaction ID.
type Header struct {
	ConnectionID  uint64
	Action        Action
	TransactionID uint32
}

// ParseHeader reads a request's header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 16 {
		return Header{}, fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	return Header{ConnectionID: be.Uint64(b), Action: Action(be.Uint32(b[8:])), TransactionID: be.Uint32(b[12:])}, nil
}

// AppendConnectRequest writes a connect request.
func AppendConnectRequest(b []byte, transactionID uint32) []byte {
	b = be.AppendUint64(b, ProtocolID)
	b = be.AppendUint32(b, uint32(ActionConnect))
	return be.AppendUint32(b, transactionID)
}

// CheckConnectRequest validates a packet whose header says connect.
func CheckConnectRequest(b []byte, h Header) error {
	if len(b) < ConnectRequestSize {
		return fmt.Errorf("%w: connect of %d bytes", ErrShort, len(b))
	}
	if h.ConnectionID != ProtocolID {
		return ErrProtocolID
	}
	return nil
}

// AppendConnectResponse writes a connect response.
func AppendConnectResponse(b []byte, transactionID uint32, connectionID uint64) []byte {
	b = be.AppendUint32(b, uint32(ActionConnect))
	b = be.AppendUint32(b, transactionID)
	return be.AppendUint64(b, connectionID)
}

// AppendError writes an error response.
func AppendError(b []byte, transactionID uint32, msg string) []byte {
	b = be.AppendUint32(b, uint32(ActionError))
	b = be.AppendUint32(b, transactionID)
	return append(b, msg...)
}
