package bencode

import (
	"bufio"
	"bytes"
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"

	jackpal "github.com/jackpal/bencode-go"
)

// seeds are the inputs every fuzz target starts from, beside its corpus in
// testdata/fuzz: the shapes of the callers' messages and the edge cases of
// the grammar.
var seeds = []string{
	"d8:completei10e10:downloadedi3e10:incompletei20e8:intervali1800e12:min intervali900e5:peers6:abcdefe",
	"d14:failure reason20:unregistered torrente",
	"d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1e10:downloadedi0e10:incompletei2eeee",
	"d5:peersld2:ip9:127.0.0.17:peer id20:-BO0001-abcdefghijkl4:porti6881eeee",
	"d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi250e1:v13:bitorigin 1.0e",
	"d8:msg_typei1e5:piecei0e10:total_sizei3eeabc",
	"d5:added6:\x7f\x00\x00\x01\x1a\xe17:added.f1:\x10e",
	"i-9223372036854775808e", "i9223372036854775808e", "i-0e", "i01e", "ie",
	"0:", "03:abc", "4:abc", "le", "de", "d1:bi1e1:ai2ee", "d1:ai1e1:ai2ee", "d0:0:e",
	"llllllllllllllllllllllllllllllllleeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
}

// FuzzDecoder checks that the Decoder never panics, that Skip and reading
// values agree, and that what it accepts with SortedKeys is canonical: the
// values read re-encode to exactly the bytes they came from.
func FuzzDecoder(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lenient := NewDecoder(b)
		lerr := lenient.Skip()
		strict := NewDecoder(b)
		strict.SortedKeys = true
		serr := strict.Skip()
		if serr == nil && (lerr != nil || lenient.Offset() != strict.Offset()) {
			t.Fatalf("SortedKeys accepts %q up to %d, without it: %v at %d", b, strict.Offset(), lerr, lenient.Offset())
		}
		if lenient.Offset() > len(b) || strict.Offset() > len(b) {
			t.Fatalf("read past the end of %q", b)
		}
		d := NewDecoder(b)
		d.SortedKeys = true
		v, err := tree(d)
		if errors.Is(err, ErrRange) {
			return // Skip accepts integers of any size; reading them does not
		}
		if (err == nil) != (serr == nil) {
			t.Fatalf("%q: Skip says %v, reading values says %v", b, serr, err)
		}
		if err != nil {
			return
		}
		if enc := appendTree(nil, v); !bytes.Equal(enc, b[:d.Offset()]) {
			t.Fatalf("%q read as %#v re-encodes to %q", b[:d.Offset()], v, enc)
		}
	})
}

// appendTree encodes a value that tree returned, with the package's writers.
func appendTree(b []byte, v any) []byte {
	switch v := v.(type) {
	case int64:
		return AppendInt(b, v)
	case string:
		return AppendString(b, v)
	case []any:
		b = AppendList(b)
		for _, e := range v {
			b = appendTree(b, e)
		}
		return AppendEnd(b)
	case map[string]any:
		b = AppendDict(b)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			b = appendTree(AppendString(b, k), v[k])
		}
		return AppendEnd(b)
	}
	panic("not a bencode value")
}

// FuzzAgainstJackpal is a differential test against the library the cold
// paths use, in its strict BEP 3 mode with the same depth limit: for every
// input both must accept or both refuse the first value, and agree on the
// value and on where it ends. The one deliberate difference, an integer
// beyond int64, is taken out here: Decoder.Skip accepts it (BEP 3 sets no
// limit) and Decoder.Int reports ErrRange, as jackpal refuses it.
func FuzzAgainstJackpal(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		d.SortedKeys = true
		ours, err := tree(d)

		// A buffer larger than the input reads it whole at once, so what
		// is left buffered tells where jackpal stopped.
		br := bufio.NewReaderSize(bytes.NewReader(b), len(b)+64)
		theirs, jerr := jackpal.DecodeWithOptions(br, jackpalOptions(b))
		if (err == nil) != (jerr == nil) {
			t.Fatalf("%q: ours says %v, jackpal says %v", b, err, jerr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(ours, theirs) {
			t.Fatalf("%q: ours read %#v, jackpal %#v", b, ours, theirs)
		}
		if end := len(b) - br.Buffered(); end != d.Offset() {
			t.Fatalf("%q: ours stops at %d, jackpal at %d", b, d.Offset(), end)
		}
	})
}

// jackpalOptions are jackpal's strict BEP 3 mode with this package's depth
// limit, for reading b.
func jackpalOptions(b []byte) jackpal.Options {
	return jackpal.Options{
		MaxStringLength: int64(len(b)), // no string is longer than the input
		MaxDepth:        MaxDepth,
		MaxElements:     -1,
		Strict:          true,
	}
}

func jackpalDecode(b []byte) (any, error) {
	return jackpal.DecodeWithOptions(bytes.NewReader(b), jackpalOptions(b))
}
