package metainfo

import (
	"bufio"
	"bytes"
	"fmt"

	bencode "github.com/jackpal/bencode-go"
)

// Limits for decoding. Strings are bounded by the input itself (see
// decodeOptions), so a short hostile file cannot make the decoder allocate
// a long string before noticing the data is not there.
const (
	// MaxSize is the largest .torrent file Parse accepts. A torrent of a
	// terabyte in 256 KiB pieces carries about 80 MB of piece hashes, so
	// real torrents stay far below this.
	MaxSize = 64 << 20

	// maxDepth bounds nesting. A v1 torrent needs five levels; hybrid v1+v2
	// torrents add BEP 52's "file tree", one level per directory.
	maxDepth = 100

	// maxElements bounds the number of values, and so the allocations one
	// file can cause: a list of millions of empty lists is only bytes on
	// disk but many objects in memory. Three million allows a torrent of
	// well over a hundred thousand files.
	maxElements = 3_000_000
)

func decodeOptions(n int) bencode.Options {
	return bencode.Options{
		MaxStringLength: int64(n),
		MaxDepth:        maxDepth,
		MaxElements:     maxElements,
		// BEP 3: canonical integers, sorted unique dictionary keys.
		Strict: true,
	}
}

// kind names the type of an encoded value for error messages.
func kind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch c := v[0]; {
	case c == 'i':
		return "integer"
	case c == 'l':
		return "list"
	case c == 'd':
		return "dictionary"
	case c >= '0' && c <= '9':
		return "string"
	}
	return "invalid value"
}

// decodeInto decodes one bencoded value of the wanted kind into dst and
// reports how many bytes followed it.
//
// The library fills struct fields by case-insensitive key and silently drops
// values of the wrong type, so the parser never decodes into structs: it
// decodes dictionaries into map[string]RawMessage (exact keys, values kept
// encoded) and checks each value's type itself before decoding it.
func decodeInto(field string, v []byte, want string, dst any) (trailing int, err error) {
	if k := kind(v); k != want {
		return 0, fieldErr(field, "want %s, got %s", want, k)
	}
	r := bytes.NewReader(v)
	// The decoder would wrap r in a 4 KiB buffer; most values here are a few
	// bytes, and a torrent of many files decodes tens of thousands of them.
	// It needs 64 bytes to find the end of a number.
	br := bufio.NewReaderSize(r, min(max(len(v), 64), 4096))
	if err := bencode.NewDecoderWithOptions(br, decodeOptions(len(v))).Unmarshal(dst); err != nil {
		return 0, &FieldError{Field: field, Err: err}
	}
	return br.Buffered() + r.Len(), nil
}

func decodeDict(field string, v []byte) (map[string]bencode.RawMessage, error) {
	var d map[string]bencode.RawMessage
	_, err := decodeInto(field, v, "dictionary", &d)
	return d, err
}

func decodeList(field string, v []byte) ([]bencode.RawMessage, error) {
	var l []bencode.RawMessage
	_, err := decodeInto(field, v, "list", &l)
	return l, err
}

func decodeString(field string, v []byte) (string, error) {
	var s string
	_, err := decodeInto(field, v, "string", &s)
	return s, err
}

func decodeInt(field string, v []byte) (int64, error) {
	var n int64
	_, err := decodeInto(field, v, "integer", &n)
	return n, err
}

func decodeStrings(field string, v []byte) ([]string, error) {
	l, err := decodeList(field, v)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], err = decodeString(fmt.Sprintf("%s[%d]", field, i), e); err != nil {
			return nil, err
		}
	}
	return out, nil
}
