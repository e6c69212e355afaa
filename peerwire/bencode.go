package peerwire

import (
	"fmt"
	"strconv"
)

// The extension messages carry small bencoded dictionaries (BEP 3 defines
// bencode). This file holds just enough bencode for them: a decoder that
// walks a dictionary without building a generic tree, so a peer's input never
// meets reflection or map[string]any, and skips what it does not know with a
// bounded depth; and appenders for the encoding side.

// maxBencodeDepth bounds the nesting of lists and dictionaries the decoder
// will skip through, so hostile input cannot exhaust the stack.
const maxBencodeDepth = 32

// maxIntDigits is the most digits an int64 can have.
const maxIntDigits = 19

// decoder reads bencode from b, starting at off.
type decoder struct {
	b     []byte
	off   int
	depth int
}

func (d *decoder) fail(at int, reason string) error {
	return &BencodeError{Offset: at, Reason: reason}
}

// next is the byte at the read position, or 0 at the end.
func (d *decoder) next() byte {
	if d.off < len(d.b) {
		return d.b[d.off]
	}
	return 0
}

// dict reads a dictionary, calling field with each key; field must consume
// the value, by reading it or calling skip. Keys need not be sorted and a
// repeated key is seen twice: peers are not that careful.
func (d *decoder) dict(field func(key []byte) error) error {
	if d.next() != 'd' {
		return d.fail(d.off, "want a dictionary")
	}
	if err := d.enter(); err != nil {
		return err
	}
	for {
		switch c := d.next(); {
		case d.off >= len(d.b):
			return d.fail(d.off, "unterminated dictionary")
		case c == 'e':
			d.off++
			d.depth--
			return nil
		case !isDigit(c):
			return d.fail(d.off, "dictionary key is not a string")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
	}
}

// enter steps into a list or dictionary.
func (d *decoder) enter() error {
	if d.depth == maxBencodeDepth {
		return d.fail(d.off, "nested too deep")
	}
	d.depth++
	d.off++
	return nil
}

// int reads an integer. ok is false when it is well-formed bencode but does
// not fit in an int64; the caller treats it like a value of the wrong type.
func (d *decoder) int() (v int64, ok bool, err error) {
	start := d.off
	if d.next() != 'i' {
		return 0, false, d.fail(start, "want an integer")
	}
	d.off++
	neg := d.next() == '-'
	if neg {
		d.off++
	}
	digits := d.digits()
	switch {
	case len(digits) == 0:
		return 0, false, d.fail(start, "integer without digits")
	case d.next() != 'e':
		return 0, false, d.fail(d.off, "unterminated integer")
	case digits[0] == '0' && (len(digits) > 1 || neg):
		// BEP 3: i-0e and leading zeros are invalid.
		return 0, false, d.fail(start, "integer with a leading zero")
	}
	d.off++
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

// str reads a byte string; the result aliases the input.
func (d *decoder) str() ([]byte, error) {
	start := d.off
	digits := d.digits()
	switch {
	case len(digits) == 0:
		return nil, d.fail(start, "want a string")
	case d.next() != ':':
		return nil, d.fail(d.off, "string length without a colon")
	case digits[0] == '0' && len(digits) > 1:
		return nil, d.fail(start, "string length with a leading zero")
	}
	d.off++
	n := 0
	for _, c := range digits {
		n = n*10 + int(c-'0')
		if n > len(d.b)-d.off {
			return nil, d.fail(start, "string runs past the end")
		}
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

// digits consumes and returns a run of ASCII digits.
func (d *decoder) digits() []byte {
	start := d.off
	for d.off < len(d.b) && isDigit(d.b[d.off]) {
		d.off++
	}
	return d.b[start:d.off]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skip consumes one value of any type.
func (d *decoder) skip() error {
	switch c := d.next(); {
	case d.off >= len(d.b):
		return d.fail(d.off, "want a value, got the end")
	case c == 'i':
		_, _, err := d.int()
		return err
	case isDigit(c):
		_, err := d.str()
		return err
	case c == 'd':
		return d.dict(func([]byte) error { return d.skip() })
	case c == 'l':
		if err := d.enter(); err != nil {
			return err
		}
		for d.next() != 'e' {
			if err := d.skip(); err != nil {
				return err
			}
		}
		d.off++
		d.depth--
		return nil
	default:
		return d.fail(d.off, fmt.Sprintf("unexpected byte %q", c))
	}
}

// intIn reads an integer into *v when it is in [lo, hi], and otherwise
// ignores it, as it ignores a value of another type.
func (d *decoder) intIn(v *int64, lo, hi int64) error {
	if d.next() != 'i' {
		return d.skip()
	}
	n, ok, err := d.int()
	if err == nil && ok && lo <= n && n <= hi {
		*v = n
	}
	return err
}

// appendStr appends a bencoded byte string.
func appendStr[S ~string | ~[]byte](b []byte, s S) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// appendInt appends a bencoded integer.
func appendInt(b []byte, v int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, v, 10)
	return append(b, 'e')
}
