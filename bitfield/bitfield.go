// Package bitfield is a fixed-size set of piece indexes, stored as BEP 3
// lays out the bitfield message: piece 0 is the high bit of the first byte,
// and the spare bits after the last piece are zero.
package bitfield

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrLength is returned (wrapped) by Validate and FromBytes when the bytes
// are not exactly ByteLen(n) long.
var ErrLength = errors.New("bitfield: wrong length")

// ErrSpareBits is returned (wrapped) by Validate and FromBytes when a bit
// after the last piece is set; BEP 3 says peers must drop the connection.
var ErrSpareBits = errors.New("bitfield: spare bits set")

// Bitfield is a set of piece indexes in [0, Len()). The zero value is an
// empty bitfield of length 0. It is not safe for concurrent use.
type Bitfield struct {
	b []byte
	n uint32
}

// ByteLen is the number of bytes a bitfield of n pieces takes on the wire.
func ByteLen(n uint32) int {
	return int((uint64(n) + 7) / 8)
}

// New returns an empty bitfield of n pieces.
func New(n uint32) *Bitfield {
	return &Bitfield{b: make([]byte, ByteLen(n)), n: n}
}

// FromBytes returns a bitfield of n pieces holding a copy of b, which must
// pass Validate.
func FromBytes(b []byte, n uint32) (*Bitfield, error) {
	if err := Validate(b, n); err != nil {
		return nil, err
	}
	return &Bitfield{b: append([]byte(nil), b...), n: n}, nil
}

// Validate reports whether b is a well-formed bitfield of n pieces: exactly
// ByteLen(n) bytes with every spare bit zero (BEP 3).
func Validate(b []byte, n uint32) error {
	if len(b) != ByteLen(n) {
		return fmt.Errorf("bitfield: %d bytes for %d pieces, want %d: %w", len(b), n, ByteLen(n), ErrLength)
	}
	if len(b) > 0 && b[len(b)-1]&spareMask(n) != 0 {
		return fmt.Errorf("bitfield: last byte %#02x for %d pieces: %w", b[len(b)-1], n, ErrSpareBits)
	}
	return nil
}

// spareMask has a one for every spare bit of the last byte of a bitfield of
// n pieces.
func spareMask(n uint32) byte {
	if n%8 == 0 {
		return 0
	}
	return 0xff >> (n % 8)
}

// Len is the number of pieces the bitfield covers.
func (f *Bitfield) Len() uint32 { return f.n }

// Has reports whether piece i is in the set. An index outside [0, Len())
// is never in the set, so Has is safe on indexes a peer sent.
func (f *Bitfield) Has(i uint32) bool {
	return i < f.n && f.b[i/8]&(0x80>>(i%8)) != 0
}

// Set adds piece i to the set. It panics if i >= Len(), like an index out
// of range.
func (f *Bitfield) Set(i uint32) {
	f.check(i)
	f.b[i/8] |= 0x80 >> (i % 8)
}

// Clear removes piece i from the set. It panics if i >= Len().
func (f *Bitfield) Clear(i uint32) {
	f.check(i)
	f.b[i/8] &^= 0x80 >> (i % 8)
}

func (f *Bitfield) check(i uint32) {
	if i >= f.n {
		panic(fmt.Sprintf("bitfield: index %d out of range [0, %d)", i, f.n))
	}
}

// SetAll adds every piece to the set, leaving the spare bits zero.
func (f *Bitfield) SetAll() {
	for i := range f.b {
		f.b[i] = 0xff
	}
	if len(f.b) > 0 {
		f.b[len(f.b)-1] &^= spareMask(f.n)
	}
}

// Count is the number of pieces in the set.
func (f *Bitfield) Count() uint32 {
	var c int
	for _, v := range f.b {
		c += bits.OnesCount8(v)
	}
	return uint32(c)
}

// All reports whether every piece is in the set.
func (f *Bitfield) All() bool { return f.Count() == f.n }

// Bytes is the bitfield as sent in a BEP 3 bitfield message. It shares
// storage with f: a change to one shows in the other.
func (f *Bitfield) Bytes() []byte { return f.b }
