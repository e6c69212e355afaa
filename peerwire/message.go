package peerwire

import "encoding/binary"

// Message is one peer wire message. Only pointers to this package's message
// types implement it, so a type switch on a Message reads
// `case *peerwire.Request:`; a value case would not compile.
type Message interface {
	// AppendTo appends the message as it goes on the wire, length prefix
	// included, to b.
	AppendTo(b []byte) []byte
	message()
}

// appendHeader appends a length prefix and message ID; length counts the ID
// byte and the payload.
func appendHeader(b []byte, length uint32, id ID) []byte {
	return append(binary.BigEndian.AppendUint32(b, length), byte(id))
}

// appendIndex appends a message whose payload is one piece index.
func appendIndex(b []byte, id ID, index uint32) []byte {
	return binary.BigEndian.AppendUint32(appendHeader(b, 5, id), index)
}

// appendBlockRef appends a message whose payload names a block: request,
// cancel and reject request.
func appendBlockRef(b []byte, id ID, index, begin, length uint32) []byte {
	b = appendHeader(b, 13, id)
	b = binary.BigEndian.AppendUint32(b, index)
	b = binary.BigEndian.AppendUint32(b, begin)
	return binary.BigEndian.AppendUint32(b, length)
}

// KeepAlive is a message with no ID and no payload, sent to keep an idle
// connection open (BEP 3).
type KeepAlive struct{}

// AppendTo appends a zero length prefix.
func (KeepAlive) AppendTo(b []byte) []byte { return append(b, 0, 0, 0, 0) }

// Choke tells the peer its requests will not be answered (BEP 3). Under BEP 6
// pending requests are then each rejected explicitly.
type Choke struct{}

// AppendTo appends the choke message.
func (Choke) AppendTo(b []byte) []byte { return appendHeader(b, 1, IDChoke) }

// Unchoke tells the peer it may request blocks (BEP 3).
type Unchoke struct{}

// AppendTo appends the unchoke message.
func (Unchoke) AppendTo(b []byte) []byte { return appendHeader(b, 1, IDUnchoke) }

// Interested tells the peer we want pieces it has (BEP 3).
type Interested struct{}

// AppendTo appends the interested message.
func (Interested) AppendTo(b []byte) []byte { return appendHeader(b, 1, IDInterested) }

// NotInterested tells the peer we want nothing it has (BEP 3).
type NotInterested struct{}

// AppendTo appends the not interested message.
func (NotInterested) AppendTo(b []byte) []byte { return appendHeader(b, 1, IDNotInterested) }

// Have announces that the sender now has a piece (BEP 3).
type Have struct {
	Index uint32
}

// AppendTo appends the have message.
func (m Have) AppendTo(b []byte) []byte { return appendIndex(b, IDHave, m.Index) }

// Bitfield lists the pieces the sender has, piece 0 in the high bit of the
// first byte; it may only follow the handshake (BEP 3). bitfield.FromBytes
// turns Bits into a set.
type Bitfield struct {
	Bits []byte
}

// AppendTo appends the bitfield message.
func (m Bitfield) AppendTo(b []byte) []byte {
	b = appendHeader(b, 1+uint32(len(m.Bits)), IDBitfield)
	return append(b, m.Bits...)
}

// Request asks for Length bytes of piece Index starting at Begin (BEP 3).
// The codec does not judge Length; the answer to a request that is too big
// is the caller's to choose (BEP 6: a Reject).
type Request struct {
	Index, Begin, Length uint32
}

// AppendTo appends the request message.
func (m Request) AppendTo(b []byte) []byte {
	return appendBlockRef(b, IDRequest, m.Index, m.Begin, m.Length)
}

// PieceHeaderLen is the bytes of a piece message before its block: length
// prefix, ID, index and begin.
const PieceHeaderLen = 4 + 1 + 4 + 4

// pieceHeaderLen is PieceHeaderLen, for this package.
const pieceHeaderLen = PieceHeaderLen

// Piece carries one block: the bytes of piece Index starting at Begin
// (BEP 3).
type Piece struct {
	Index, Begin uint32
	Block        []byte
}

// AppendTo appends the piece message, copying the block; Writer.WritePiece
// sends a block without copying it.
func (m Piece) AppendTo(b []byte) []byte {
	b = appendPieceHeader(b, m.Index, m.Begin, len(m.Block))
	return append(b, m.Block...)
}

// AppendPieceHeader appends the PieceHeaderLen bytes that come before a
// block of n bytes: a sender that has the block elsewhere (a writev of
// headers and blocks read from disk) sends it after them uncopied.
func AppendPieceHeader(b []byte, index, begin uint32, n int) []byte {
	return appendPieceHeader(b, index, begin, n)
}

// appendPieceHeader appends the pieceHeaderLen bytes that come before a
// block of n bytes.
func appendPieceHeader(b []byte, index, begin uint32, n int) []byte {
	b = appendHeader(b, uint32(pieceHeaderLen-4+n), IDPiece)
	b = binary.BigEndian.AppendUint32(b, index)
	return binary.BigEndian.AppendUint32(b, begin)
}

// Cancel withdraws a Request (BEP 3). Under BEP 6 the request is still
// answered, by the block or a Reject.
type Cancel struct {
	Index, Begin, Length uint32
}

// AppendTo appends the cancel message.
func (m Cancel) AppendTo(b []byte) []byte {
	return appendBlockRef(b, IDCancel, m.Index, m.Begin, m.Length)
}

// Port gives the UDP port of the sender's DHT node (BEP 5).
type Port struct {
	Port uint16
}

// AppendTo appends the port message.
func (m Port) AppendTo(b []byte) []byte {
	return binary.BigEndian.AppendUint16(appendHeader(b, 3, IDPort), m.Port)
}

func (*KeepAlive) message()     {}
func (*Choke) message()         {}
func (*Unchoke) message()       {}
func (*Interested) message()    {}
func (*NotInterested) message() {}
func (*Have) message()          {}
func (*Bitfield) message()      {}
func (*Request) message()       {}
func (*Piece) message()         {}
func (*Cancel) message()        {}
func (*Port) message()          {}
