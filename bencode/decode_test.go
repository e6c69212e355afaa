package bencode

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// tree decodes one value into the types jackpal/bencode-go's Decode
// returns: int64, string, []any and map[string]any. It is the reference
// reading for the tests; the package itself builds no trees.
func tree(d *Decoder) (any, error) {
	switch d.Kind() {
	case Int:
		n, err := d.Int()
		return n, err
	case String:
		s, err := d.Bytes()
		return string(s), err
	case List:
		l := []any{}
		err := d.List(func() error {
			v, err := tree(d)
			l = append(l, v)
			return err
		})
		return l, err
	case Dict:
		m := map[string]any{}
		err := d.Dict(func(key []byte) error {
			v, err := tree(d)
			m[string(key)] = v
			return err
		})
		return m, err
	}
	return nil, d.Skip()
}

func TestDecoderReadsEveryKind(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"i0e", int64(0)},
		{"i-1e", int64(-1)},
		{"i9223372036854775807e", int64(1<<63 - 1)},
		{"i-9223372036854775808e", int64(-1 << 63)},
		{"0:", ""},
		{"5:hello", "hello"},
		{"le", []any{}},
		{"de", map[string]any{}},
		{"li1e1:al1:bee", []any{int64(1), "a", []any{"b"}}},
		{"d1:ai1e1:bd1:cleee", map[string]any{"a": int64(1), "b": map[string]any{"c": []any{}}}},
		{"d0:i7ee", map[string]any{"": int64(7)}},
	} {
		d := NewDecoder([]byte(tc.in))
		d.SortedKeys = true
		got, err := tree(d)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) || d.Offset() != len(tc.in) {
			t.Errorf("%q: read %#v up to offset %d, want %#v to %d", tc.in, got, d.Offset(), tc.want, len(tc.in))
		}
	}
}

func TestDecoderRefusesMalformedInput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		offset   int
	}{
		{"empty", "", 0},
		{"end of a list where a value belongs", "e", 0},
		{"unknown type byte", "x", 0},
		{"integer without digits", "ie", 0},
		{"minus without digits", "i-e", 0},
		{"plus sign", "i+1e", 0},
		{"unterminated integer", "i12", 3},
		{"integer with a space", "i1 e", 2},
		{"leading zero", "i01e", 0},
		{"negative zero", "i-0e", 0},
		{"negative leading zero", "i-01e", 0},
		{"string past the end", "10:abc", 0},
		{"huge string length", "99999999999999999999999:x", 0},
		{"string length with a leading zero", "03:abc", 0},
		{"string length without a colon", "3abc", 1},
		{"string length at the end", "3", 1},
		{"unterminated list", "li1e", 4},
		{"unterminated dictionary", "d1:ai1e", 7},
		{"integer key", "di1ei2ee", 1},
		{"list key", "dlei2ee", 1},
		{"key without a value", "d1:ae", 4},
		{"nested too deep", strings.Repeat("l", 40) + strings.Repeat("e", 40), MaxDepth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, sorted := range []bool{false, true} {
				d := NewDecoder([]byte(tc.in))
				d.SortedKeys = sorted
				err := d.Skip()
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Skip: err = %v, want an *Error", err)
				}
				if e.Offset != tc.offset {
					t.Fatalf("error %q at offset %d, want %d", e, e.Offset, tc.offset)
				}
				d = NewDecoder([]byte(tc.in))
				d.SortedKeys = sorted
				if _, err := tree(d); !errors.As(err, &e) || e.Offset != tc.offset {
					t.Fatalf("reading values: err = %v, want an *Error at offset %d", err, tc.offset)
				}
			}
		})
	}
}

func TestSortedKeysRefusesUnsortedAndRepeatedKeys(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		offset   int
	}{
		{"out of order", "d1:bi1e1:ai2ee", 7},
		{"repeated", "d1:ai1e1:ai2ee", 7},
		{"prefix after the longer key", "d2:aai1e1:ai2ee", 8},
		{"nested, when skipped", "l" + "d1:bi1e1:ai2ee" + "e", 8},
		{"nested, in a read value", "d1:xd1:bi1e1:ai2eee", 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder([]byte(tc.in))
			if err := d.Skip(); err != nil {
				t.Fatalf("without SortedKeys: %v", err)
			}
			d = NewDecoder([]byte(tc.in))
			d.SortedKeys = true
			var e *Error
			if _, err := tree(d); !errors.As(err, &e) || e.Offset != tc.offset {
				t.Fatalf("err = %v, want an *Error at offset %d", err, tc.offset)
			}
		})
	}
}

func TestDecoderSkipsWhatTheCallerLeaves(t *testing.T) {
	d := NewDecoder([]byte("d1:ali1ed1:xleee1:bi2e1:ci3eeTAIL"))
	var b, c int64
	err := d.Dict(func(key []byte) error {
		var err error
		switch string(key) {
		case "b":
			b, err = d.Int()
		case "c":
			c, err = d.Int()
		}
		return err
	})
	if err != nil || b != 2 || c != 3 || string(d.Rest()) != "TAIL" {
		t.Fatalf("b %d, c %d, rest %q, err %v", b, c, d.Rest(), err)
	}
	n := 0
	d = NewDecoder([]byte("li1e3:abcdeli-1eee"))
	if err := d.List(func() error { n++; return nil }); err != nil || n != 4 || d.Offset() != 18 {
		t.Fatalf("counted %d elements up to %d: %v", n, d.Offset(), err)
	}
}

func TestDecoderAsksForTheWrongKindWithoutStopping(t *testing.T) {
	d := NewDecoder([]byte("d1:a3:abce"))
	err := d.Dict(func([]byte) error {
		if _, err := d.Int(); err == nil {
			t.Error("read a string as an integer")
		}
		if d.Kind() != String {
			t.Error("asking for the wrong kind consumed the value")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecoderStopsAtMalformedInputEvenIfTheCallerDropsTheError(t *testing.T) {
	d := NewDecoder([]byte("d1:ai01e1:bi2ee"))
	var b int64
	err := d.Dict(func(key []byte) error {
		if string(key) == "a" {
			d.Int() // the caller ignores the leading-zero error
			return nil
		}
		b, _ = d.Int()
		return nil
	})
	var e *Error
	if !errors.As(err, &e) || e.Offset != 4 || b != 0 {
		t.Fatalf("err %v, b %d: want the leading-zero error at 4 and b unread", err, b)
	}
	if _, again := d.Bytes(); again != err {
		t.Fatalf("later call returned %v, want the same error", again)
	}
}

func TestIntOutOfRangeIsConsumedAndReported(t *testing.T) {
	for _, in := range []string{"i9223372036854775808e", "i-9223372036854775809e", "i99999999999999999999999e"} {
		d := NewDecoder([]byte(in + "i1e"))
		if _, err := d.Int(); err != ErrRange {
			t.Fatalf("%s: err = %v, want ErrRange", in, err)
		}
		if n, err := d.Int(); n != 1 || err != nil {
			t.Fatalf("%s: the value after it read %d, %v", in, n, err)
		}
		if err := NewDecoder([]byte(in)).Skip(); err != nil {
			t.Fatalf("%s: Skip: %v", in, err)
		}
	}
}

func TestBytesAliasesTheInput(t *testing.T) {
	in := []byte("3:abc")
	s, err := NewDecoder(in).Bytes()
	if err != nil || &s[0] != &in[2] {
		t.Fatalf("got %q, %v, not a sub-slice of the input", s, err)
	}
}

func TestAppendWritesCanonicalValues(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{string(AppendInt(nil, 0)), "i0e"},
		{string(AppendInt(nil, -42)), "i-42e"},
		{string(AppendInt(nil, -1<<63)), "i-9223372036854775808e"},
		{string(AppendString(nil, "")), "0:"},
		{string(AppendString(nil, "123456789")), "9:123456789"},
		{string(AppendString(nil, "1234567890")), "10:1234567890"},
		{string(AppendBytes(nil, make([]byte, 99)))[:3], "99:"},
		{string(AppendBytes(nil, make([]byte, 100)))[:4], "100:"},
		{string(AppendStringHeader([]byte("x"), 12345)), "x12345:"},
		{string(AppendEnd(AppendDict(AppendEnd(AppendList(nil))))), "lede"},
	} {
		if tc.got != tc.want {
			t.Errorf("wrote %q, want %q", tc.got, tc.want)
		}
	}
}

func TestKeyIsTheEncodedString(t *testing.T) {
	if got := string(AppendKey([]byte("d"), NewKey("min interval"))); got != "d12:min interval" {
		t.Fatalf("wrote %q", got)
	}
}
