package bencode

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxDepth is how deeply lists and dictionaries may nest, the outermost
// counting as one, so that hostile input cannot exhaust the stack.
const MaxDepth = 32

// maxIntDigits is the most digits an int64 can have.
const maxIntDigits = 19

// Kind is the type of the value at a Decoder's read position.
type Kind uint8

// The kinds of value, told by their first byte.
const (
	Invalid Kind = iota // the end of the input, or a byte no value starts with
	Int                 // i
	String              // a digit
	List                // l
	Dict                // d
)

// ErrRange is returned by Decoder.Int for a well-formed integer that does
// not fit in an int64: BEP 3 sets integers no limit, so Skip accepts it.
// The integer has been consumed and the Decoder can go on, so a caller can
// ignore it as it ignores a value of the wrong type.
var ErrRange = errors.New("bencode: integer does not fit in 64 bits")

// Error reports malformed input, or a value of another kind than the one
// asked for.
type Error struct {
	Offset int    // byte offset in the Decoder's input
	Reason string // what was wrong there
}

// Error says where the input went wrong and why.
func (e *Error) Error() string {
	return fmt.Sprintf("bad bencode at offset %d: %s", e.Offset, e.Reason)
}

// A Decoder reads bencoded values from a byte slice, front to back, without
// allocating: strings come back as sub-slices of the input.
//
// Malformed input stops the Decoder: the *Error is returned again by every
// later call, so a caller that drops one cannot read on from the middle of
// a value. Asking for the wrong kind of value returns an *Error too but
// consumes nothing and does not stop the Decoder; check Kind first where
// the wrong kind is expected, as an error allocates.
type Decoder struct {
	// SortedKeys makes Dict and Skip refuse a dictionary whose keys are not
	// in strictly ascending byte order, and so any repeated key (BEP 3).
	SortedKeys bool

	b     []byte
	off   int
	depth int
	err   error // sticky: the input is malformed
}

// NewDecoder returns a Decoder that reads b from its start.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Offset is the read position: how many bytes of the input were consumed.
func (d *Decoder) Offset() int { return d.off }

// Rest is the input after the read position.
func (d *Decoder) Rest() []byte { return d.b[d.off:] }

// Kind is the kind of the value at the read position; Invalid at the end
// of the input and at an 'e' that ends a list or dictionary.
func (d *Decoder) Kind() Kind {
	if d.off >= len(d.b) {
		return Invalid
	}
	switch c := d.b[d.off]; {
	case c == 'i':
		return Int
	case isDigit(c):
		return String
	case c == 'l':
		return List
	case c == 'd':
		return Dict
	}
	return Invalid
}

// Int reads an integer. A well-formed integer beyond the int64 range is
// consumed and returns ErrRange.
func (d *Decoder) Int() (int64, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.Kind() != Int {
		return 0, d.mismatch("want an integer")
	}
	v, ok, err := d.int()
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return 0, ErrRange
	}
	return v, nil
}

// Bytes reads a byte string; the result aliases the input.
func (d *Decoder) Bytes() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.Kind() != String {
		return nil, d.mismatch("want a string")
	}
	return d.str()
}

// Dict reads a dictionary, calling field with each key, which aliases the
// input. field reads the key's value with the Decoder, or leaves it unread
// and Dict skips it. An error from field ends the walk and is returned as
// it is.
func (d *Decoder) Dict(field func(key []byte) error) error {
	if d.err != nil {
		return d.err
	}
	if d.Kind() != Dict {
		return d.mismatch("want a dictionary")
	}
	if err := d.enter(); err != nil {
		return err
	}
	var prev []byte
	for first := true; ; first = false {
		key, end, err := d.key(prev, first)
		if err != nil || end {
			return err
		}
		start := d.off
		if err := field(key); err != nil {
			return err
		}
		if err := d.unread(start); err != nil {
			return err
		}
		prev = key
	}
}

// List reads a list, calling elem at each element. elem reads the element
// with the Decoder, or leaves it unread and List skips it. An error from
// elem ends the walk and is returned as it is.
func (d *Decoder) List(elem func() error) error {
	if d.err != nil {
		return d.err
	}
	if d.Kind() != List {
		return d.mismatch("want a list")
	}
	if err := d.enter(); err != nil {
		return err
	}
	for {
		switch {
		case d.off >= len(d.b):
			return d.fail(d.off, "unterminated list")
		case d.b[d.off] == 'e':
			d.leave()
			return nil
		}
		start := d.off
		if err := elem(); err != nil {
			return err
		}
		if err := d.unread(start); err != nil {
			return err
		}
	}
}

// Skip consumes one value of any kind, checking it as strictly as reading
// it would, except that an integer need not fit in an int64.
func (d *Decoder) Skip() error {
	if d.err != nil {
		return d.err
	}
	return d.skip()
}

// unread skips the value at start if the caller's function left it
// unread, and stops at an error the function dropped.
func (d *Decoder) unread(start int) error {
	switch {
	case d.err != nil:
		return d.err
	case d.off == start:
		return d.skip()
	}
	return nil
}

// fail stops the Decoder at malformed input.
func (d *Decoder) fail(at int, reason string) error {
	d.err = &Error{Offset: at, Reason: reason}
	return d.err
}

// mismatch reports a value of another kind than the one asked for.
func (d *Decoder) mismatch(reason string) error {
	if d.off >= len(d.b) {
		return d.fail(d.off, "want a value, got the end")
	}
	return &Error{Offset: d.off, Reason: reason}
}

// enter steps into a list or dictionary.
func (d *Decoder) enter() error {
	if d.depth == MaxDepth {
		return d.fail(d.off, "nested too deep")
	}
	d.depth++
	d.off++
	return nil
}

// leave steps out of a list or dictionary over its 'e'.
func (d *Decoder) leave() {
	d.depth--
	d.off++
}

// key reads a dictionary's next key, or its end.
func (d *Decoder) key(prev []byte, first bool) (key []byte, end bool, err error) {
	switch {
	case d.off >= len(d.b):
		return nil, false, d.fail(d.off, "unterminated dictionary")
	case d.b[d.off] == 'e':
		d.leave()
		return nil, true, nil
	case !isDigit(d.b[d.off]):
		return nil, false, d.fail(d.off, "dictionary key is not a string")
	}
	start := d.off
	if key, err = d.str(); err != nil {
		return nil, false, err
	}
	if d.SortedKeys && !first {
		switch bytes.Compare(prev, key) {
		case 0:
			return nil, false, d.fail(start, "repeated dictionary key")
		case 1:
			return nil, false, d.fail(start, "dictionary keys out of order")
		}
	}
	return key, false, nil
}

// int reads the integer at the read position, which starts with 'i'. ok
// is false when it is well-formed but does not fit in an int64.
func (d *Decoder) int() (v int64, ok bool, err error) {
	start := d.off
	i := start + 1
	neg := i < len(d.b) && d.b[i] == '-'
	if neg {
		i++
	}
	digits := d.digits(i)
	i += len(digits)
	switch {
	case len(digits) == 0:
		return 0, false, d.fail(start, "integer without digits")
	case i >= len(d.b) || d.b[i] != 'e':
		return 0, false, d.fail(i, "unterminated integer")
	case digits[0] == '0' && (len(digits) > 1 || neg):
		// BEP 3: i-0e and leading zeros are invalid.
		return 0, false, d.fail(start, "integer with a leading zero")
	}
	d.off = i + 1
	if len(digits) > maxIntDigits {
		return 0, false, nil
	}
	var u uint64
	for _, c := range digits {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false, nil
		}
		return -int64(u), true, nil
	}
	if u > 1<<63-1 {
		return 0, false, nil
	}
	return int64(u), true, nil
}

// str reads the byte string at the read position, which starts with a
// digit; the result aliases the input.
func (d *Decoder) str() ([]byte, error) {
	start := d.off
	digits := d.digits(start)
	i := start + len(digits)
	switch {
	case i >= len(d.b) || d.b[i] != ':':
		return nil, d.fail(i, "string length without a colon")
	case digits[0] == '0' && len(digits) > 1:
		return nil, d.fail(start, "string length with a leading zero")
	}
	i++
	n := 0
	for _, c := range digits {
		n = n*10 + int(c-'0')
		if n > len(d.b)-i {
			return nil, d.fail(start, "string runs past the end")
		}
	}
	d.off = i + n
	return d.b[i:d.off], nil
}

// digits is the run of ASCII digits at b[i:].
func (d *Decoder) digits(i int) []byte {
	j := i
	for j < len(d.b) && isDigit(d.b[j]) {
		j++
	}
	return d.b[i:j]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skip consumes one value of any kind. It recurses only through itself,
// never through a closure, so that skipping allocates nothing.
func (d *Decoder) skip() error {
	switch d.Kind() {
	case Int:
		_, _, err := d.int()
		return err
	case String:
		_, err := d.str()
		return err
	case List:
		if err := d.enter(); err != nil {
			return err
		}
		for {
			switch {
			case d.off >= len(d.b):
				return d.fail(d.off, "unterminated list")
			case d.b[d.off] == 'e':
				d.leave()
				return nil
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	case Dict:
		if err := d.enter(); err != nil {
			return err
		}
		var prev []byte
		for first := true; ; first = false {
			key, end, err := d.key(prev, first)
			if err != nil || end {
				return err
			}
			if err := d.skip(); err != nil {
				return err
			}
			prev = key
		}
	}
	if d.off >= len(d.b) {
		return d.fail(d.off, "want a value, got the end")
	}
	return d.fail(d.off, fmt.Sprintf("unexpected byte %q", d.b[d.off]))
}
