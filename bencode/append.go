package bencode

import "strconv"

// The writers append to a caller's buffer and never allocate once it has
// room. A dictionary's keys must be appended in sorted order, each key
// once (BEP 3); the writers leave that to the caller, whose keys are
// nearly always constants. A hot path encodes its keys once, as Keys.

// AppendInt appends the integer v: i<v>e.
func AppendInt(b []byte, v int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, v, 10)
	return append(b, 'e')
}

// AppendString appends the byte string s: <length>:<s>.
func AppendString(b []byte, s string) []byte {
	return append(AppendStringHeader(b, len(s)), s...)
}

// AppendBytes appends the byte string s: <length>:<s>.
func AppendBytes(b, s []byte) []byte {
	return append(AppendStringHeader(b, len(s)), s...)
}

// AppendStringHeader appends the length prefix of an n-byte string, <n>:,
// for a caller that then appends the n bytes itself rather than gather
// them in a buffer first.
func AppendStringHeader(b []byte, n int) []byte {
	// Keys, hashes and single addresses are shorter than 100 bytes: their
	// prefix costs no call to strconv.
	if uint(n) < 10 {
		return append(b, byte('0'+n), ':')
	}
	return appendLength(b, n)
}

// appendLength appends <n>: for n of 10 and more.
func appendLength(b []byte, n int) []byte {
	if n < 100 {
		return append(b, byte('0'+n/10), byte('0'+n%10), ':')
	}
	return append(strconv.AppendInt(b, int64(n), 10), ':')
}

// AppendDict begins a dictionary: keys and values follow, then AppendEnd.
func AppendDict(b []byte) []byte { return append(b, 'd') }

// AppendList begins a list: values follow, then AppendEnd.
func AppendList(b []byte) []byte { return append(b, 'l') }

// AppendEnd ends the innermost dictionary or list.
func AppendEnd(b []byte) []byte { return append(b, 'e') }

// A Key is a dictionary key encoded once, for a hot path that writes the
// same keys in every message: AppendKey is then a single copy. The zero
// Key is not a key.
type Key struct{ enc string }

// NewKey encodes the dictionary key s.
func NewKey(s string) Key { return Key{string(AppendString(nil, s))} }

// AppendKey appends k.
func AppendKey(b []byte, k Key) []byte { return append(b, k.enc...) }
