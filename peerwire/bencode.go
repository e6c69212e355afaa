package peerwire

import "github.com/bitorigin/bitorigin/bencode"

// The extension messages carry small bencoded dictionaries, read and
// written with package bencode. Peers are not careful with them: keys may
// come unsorted or twice, and a known key with a value of the wrong kind
// or out of range is ignored, not an error.

// intIn reads an integer into *v when it is in [lo, hi], and otherwise
// leaves it for the Decoder to skip, as it leaves a value of another kind.
func intIn(d *bencode.Decoder, v *int64, lo, hi int64) error {
	if d.Kind() != bencode.Int {
		return nil
	}
	n, err := d.Int()
	switch {
	case err == bencode.ErrRange:
		return nil
	case err == nil && lo <= n && n <= hi:
		*v = n
	}
	return err
}

// bytesIn reads a byte string into *v, aliasing the input, and leaves a
// value of another kind for the Decoder to skip.
func bytesIn(d *bencode.Decoder, v *[]byte) error {
	if d.Kind() != bencode.String {
		return nil
	}
	s, err := d.Bytes()
	*v = s
	return err
}
