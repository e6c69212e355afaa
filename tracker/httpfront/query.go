package httpfront

import (
	"bytes"

	"github.com/bitorigin/bitorigin/tracker"
)

// nextParam splits the first key=value pair off a raw query string. A pair
// without '=' has an empty value.
func nextParam(q []byte) (key, value, rest []byte) {
	pair := q
	if i := bytes.IndexByte(q, '&'); i >= 0 {
		pair, rest = q[:i], q[i+1:]
	}
	key = pair
	if i := bytes.IndexByte(pair, '='); i >= 0 {
		key, value = pair[:i], pair[i+1:]
	}
	return key, value, rest
}

// unescape appends the URL-decoded form of s to dst. It is binary safe:
// %00 and bytes above 0x7f pass through, and '+' is a space as in form
// encoding (a literal '+' arrives as %2B). A '%' not followed by two hex
// digits is an error rather than passed through, so a client with a broken
// encoder learns of it instead of announcing a wrong info hash.
func unescape(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) {
				return dst, tracker.ErrBadEscape
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return dst, tracker.ErrBadEscape
			}
			dst = append(dst, hi<<4|lo)
			i += 2
		case '+':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseUint parses a decimal non-negative integer that fits in an int64.
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n >= 0
}

// parseInt parses a decimal integer with an optional minus sign.
func parseInt(b []byte) (int64, bool) {
	if len(b) > 0 && b[0] == '-' {
		n, ok := parseUint(b[1:])
		return -n, ok
	}
	return parseUint(b)
}

// parseKey turns the HTTP key parameter into the number the stores
// compare: up to 8 hex digits are read as the number they spell, as
// libtorrent and our seeder send the same 32-bit key over HTTP in hex and
// over UDP in binary; any other string is hashed (FNV-1a). An empty key,
// or one that spells 0, is no key (0).
func parseKey(v []byte) uint32 {
	if len(v) == 0 {
		return 0
	}
	if len(v) <= 8 {
		var n uint32
		hex := true
		for _, c := range v {
			d, ok := unhex(c)
			if !ok {
				hex = false
				break
			}
			n = n<<4 | uint32(d)
		}
		if hex {
			return n
		}
	}
	h := uint32(2166136261)
	for _, c := range v {
		h ^= uint32(c)
		h *= 16777619
	}
	if h == 0 {
		h = 1
	}
	return h
}
