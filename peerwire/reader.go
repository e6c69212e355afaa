package peerwire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/bitorigin/bitorigin/bitfield"
)

// Default limits of a Reader.
const (
	// DefaultMaxBlock is the largest block a piece message may carry. Clients
	// request 16 KiB blocks; some accept requests, and send pieces, up to
	// 128 KiB.
	DefaultMaxBlock = 128 << 10
	// DefaultMaxExtended is the longest extended message: ut_metadata pieces
	// are 16 KiB plus a small dictionary, peer exchange lists are smaller.
	DefaultMaxExtended = 1 << 20
)

// ReaderConfig sets a Reader's limits. Its zero value accepts any torrent.
type ReaderConfig struct {
	// Pieces is the torrent's number of pieces. When set, a bitfield message
	// must be exactly (Pieces+7)/8 bytes with its spare bits zero (BEP 3).
	// 0 means not known yet: any bitfield up to MaxExtended is accepted
	// unchecked.
	Pieces uint32
	// MaxBlock is the largest block a piece message may carry;
	// DefaultMaxBlock when 0. A seeder, which never requests blocks, can keep
	// it at the request size it serves.
	MaxBlock uint32
	// MaxExtended is the longest extended message, and the longest message
	// of an unknown ID, counted from the ID byte; DefaultMaxExtended when 0.
	MaxExtended uint32
	// BlockBuffer, when set, returns the buffer the block of a piece message
	// is read into, given its index, begin and length: a downloader points
	// it into the piece it is assembling, and saves a copy. It must return
	// at least length bytes, or nil for the Reader's own buffer. On a read
	// error part of the buffer may have been overwritten.
	BlockBuffer func(index, begin, length uint32) []byte
}

// Reader reads messages from a peer, checking each length prefix against
// its message ID before reading or allocating the body. It is not safe for
// concurrent use.
type Reader struct {
	r           *bufio.Reader
	pieces      uint32
	maxPiece    uint32 // length prefix, ID included
	maxExtended uint32
	blockBuffer func(index, begin, length uint32) []byte

	block []byte // blocks, when BlockBuffer does not give one

	// One value per message type, reused: ReadMessage returns pointers to
	// these, so reading a message allocates nothing.
	keepAlive     KeepAlive
	choke         Choke
	unchoke       Unchoke
	interested    Interested
	notInterested NotInterested
	have          Have
	bitfield      Bitfield
	request       Request
	piece         Piece
	cancel        Cancel
	port          Port
	suggest       Suggest
	haveAll       HaveAll
	haveNone      HaveNone
	reject        Reject
	allowedFast   AllowedFast
	extended      Extended
	unknown       Unknown
}

// NewReader returns a Reader of the messages that follow the handshake on r.
// It buffers r unless r is a *bufio.Reader already; pass the one the
// handshake was read through, if any, so that no buffered byte is lost.
func NewReader(r io.Reader, cfg ReaderConfig) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	if cfg.MaxBlock == 0 {
		cfg.MaxBlock = DefaultMaxBlock
	}
	if cfg.MaxExtended == 0 {
		cfg.MaxExtended = DefaultMaxExtended
	}
	return &Reader{
		r:           br,
		pieces:      cfg.Pieces,
		maxPiece:    uint32(min(uint64(pieceHeaderLen-4)+uint64(cfg.MaxBlock), math.MaxUint32)),
		maxExtended: cfg.MaxExtended,
		blockBuffer: cfg.BlockBuffer,
	}
}

// ReadMessage reads the next message and returns a pointer to one of this
// package's message types: *KeepAlive, *Choke, *Request, ..., *Extended
// for every extended message, *Unknown for an ID it does not know.
//
// The message, and any slice in it (Piece.Block, Bitfield.Bits,
// Extended.Payload, Unknown.Payload), is valid only until the next call:
// the Reader reuses the values, and small payloads point into its read
// buffer. Copy what must live longer.
//
// A clean end of stream between messages is io.EOF, unwrapped; an end inside
// a message is io.ErrUnexpectedEOF, wrapped. A length prefix that does not
// fit its ID is a *MessageTooLongError or wraps ErrBadLength; a bitfield with
// spare bits set wraps bitfield.ErrSpareBits. After an error the stream is
// out of step and the connection should be closed; an *Unknown message is
// not an error.
func (r *Reader) ReadMessage() (Message, error) {
	// Peek the length prefix alone first: a keep-alive may be the last
	// thing the peer sends for minutes.
	head, err := r.r.Peek(4)
	if err != nil {
		if len(head) == 0 && err == io.EOF {
			return nil, err
		}
		return nil, fmt.Errorf("peerwire: reading message length: %w", unexpected(err))
	}
	length := binary.BigEndian.Uint32(head)
	if length == 0 {
		r.r.Discard(4)
		return &r.keepAlive, nil
	}
	if head, err = r.r.Peek(5); err != nil {
		return nil, fmt.Errorf("peerwire: reading message ID: %w", unexpected(err))
	}
	id := ID(head[4])
	lo, hi := r.limits(id)
	if length > hi {
		return nil, &MessageTooLongError{ID: id, Length: length, Max: hi}
	}
	if length < lo {
		if lo == hi {
			return nil, fmt.Errorf("peerwire: %v message of length %d, want %d: %w", id, length, lo, ErrBadLength)
		}
		return nil, fmt.Errorf("peerwire: %v message of length %d, want at least %d: %w", id, length, lo, ErrBadLength)
	}
	r.r.Discard(5)
	if id == IDPiece {
		return r.readPiece(length - 1)
	}
	p, err := r.payload(int(length - 1))
	if err != nil {
		return nil, fmt.Errorf("peerwire: reading %v message: %w", id, err)
	}
	return r.decode(id, p)
}

// limits are the shortest and longest length prefix, ID included, that a
// message of ID id may have.
func (r *Reader) limits(id ID) (lo, hi uint32) {
	switch id {
	case IDChoke, IDUnchoke, IDInterested, IDNotInterested, IDHaveAll, IDHaveNone:
		return 1, 1
	case IDHave, IDSuggest, IDAllowedFast:
		return 5, 5
	case IDRequest, IDCancel, IDReject:
		return 13, 13
	case IDPort:
		return 3, 3
	case IDBitfield:
		if r.pieces == 0 {
			return 1, r.maxExtended
		}
		n := 1 + uint32(bitfield.ByteLen(r.pieces))
		return n, n
	case IDPiece:
		return pieceHeaderLen - 4, r.maxPiece
	case IDExtended:
		return 1 + 1, r.maxExtended
	case IDHashRequest, IDHashReject:
		return 1 + hashHeaderLen, 1 + hashHeaderLen
	case IDHashes:
		return 1 + hashHeaderLen, r.maxExtended
	}
	return 1, r.maxExtended
}

// payload reads the n bytes of a message's payload. A payload that fits in
// the read buffer is returned in place, without a copy; the next read
// overwrites it. A bigger one (a large torrent's bitfield, a ut_metadata
// piece) gets a buffer of its own, which the Reader does not keep: a peer
// cannot make a connection hold on to MaxExtended bytes.
func (r *Reader) payload(n int) ([]byte, error) {
	if n <= r.r.Size() {
		p, err := r.r.Peek(n)
		if err != nil {
			return nil, unexpected(err)
		}
		r.r.Discard(n)
		return p, nil
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r.r, p)
	return p, unexpected(err)
}

// decode fills in the message of ID id from its payload p, whose length
// limits has already checked.
func (r *Reader) decode(id ID, p []byte) (Message, error) {
	be := binary.BigEndian
	switch id {
	case IDChoke:
		return &r.choke, nil
	case IDUnchoke:
		return &r.unchoke, nil
	case IDInterested:
		return &r.interested, nil
	case IDNotInterested:
		return &r.notInterested, nil
	case IDHave:
		r.have = Have{Index: be.Uint32(p)}
		return &r.have, nil
	case IDBitfield:
		if r.pieces != 0 {
			if err := bitfield.Validate(p, r.pieces); err != nil {
				return nil, fmt.Errorf("peerwire: bitfield message: %w", err)
			}
		}
		r.bitfield = Bitfield{Bits: p}
		return &r.bitfield, nil
	case IDRequest:
		r.request = Request{Index: be.Uint32(p), Begin: be.Uint32(p[4:]), Length: be.Uint32(p[8:])}
		return &r.request, nil
	case IDCancel:
		r.cancel = Cancel{Index: be.Uint32(p), Begin: be.Uint32(p[4:]), Length: be.Uint32(p[8:])}
		return &r.cancel, nil
	case IDPort:
		r.port = Port{Port: be.Uint16(p)}
		return &r.port, nil
	case IDSuggest:
		r.suggest = Suggest{Index: be.Uint32(p)}
		return &r.suggest, nil
	case IDHaveAll:
		return &r.haveAll, nil
	case IDHaveNone:
		return &r.haveNone, nil
	case IDReject:
		r.reject = Reject{Index: be.Uint32(p), Begin: be.Uint32(p[4:]), Length: be.Uint32(p[8:])}
		return &r.reject, nil
	case IDAllowedFast:
		r.allowedFast = AllowedFast{Index: be.Uint32(p)}
		return &r.allowedFast, nil
	case IDExtended:
		r.extended = Extended{ExtID: p[0], Payload: p[1:]}
		return &r.extended, nil
	case IDHashRequest, IDHashReject, IDHashes:
		return decodeV2(id, p)
	}
	r.unknown = Unknown{ID: id, Payload: p}
	return &r.unknown, nil
}

// readPiece reads the rest of a piece message of n payload bytes, its block
// straight into the buffer it will be returned in.
func (r *Reader) readPiece(n uint32) (Message, error) {
	head, err := r.r.Peek(8)
	if err != nil {
		return nil, fmt.Errorf("peerwire: reading piece message: %w", unexpected(err))
	}
	index := binary.BigEndian.Uint32(head)
	begin := binary.BigEndian.Uint32(head[4:])
	r.r.Discard(8)
	size := n - 8
	var block []byte
	if r.blockBuffer != nil {
		block = r.blockBuffer(index, begin, size)
		if block != nil && uint32(len(block)) < size {
			return nil, fmt.Errorf("peerwire: BlockBuffer gave %d bytes for a %d-byte block", len(block), size)
		}
	}
	if block == nil {
		if uint32(cap(r.block)) < size {
			r.block = make([]byte, size)
		}
		block = r.block
	}
	block = block[:size]
	if _, err := io.ReadFull(r.r, block); err != nil {
		return nil, fmt.Errorf("peerwire: reading block of piece %d at %d: %w", index, begin, unexpected(err))
	}
	r.piece = Piece{Index: index, Begin: begin, Block: block}
	return &r.piece, nil
}
